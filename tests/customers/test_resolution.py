"""customers.resolution: the one place that resolves or creates customers by identity."""

from __future__ import annotations

import inspect
import re

import pytest
from django.db import connection

from khoshnud.channels import csv_import
from khoshnud.commerce import services as commerce_services
from khoshnud.customers.models import Customer, Identity
from khoshnud.customers.resolution import (
    CustomerReference,
    customer_find_or_create,
    customers_resolve,
)
from khoshnud.customers.services import customer_create, customer_merge
from khoshnud.interactions.services import ingest

pytestmark = pytest.mark.django_db


def test_references_resolve_by_id_identity_or_a_new_customer() -> None:
    sara = customer_create(data={"first_name": "Sara", "identities": {"email": "sara@x.org"}})
    old = customer_create(data={"first_name": "Old", "identities": {"email": "old@x.org"}})
    customer_merge(target=sara, source=old)
    results = customers_resolve(
        references=[
            CustomerReference(customer_id=sara.pk),
            CustomerReference(customer_id=old.pk),  # merged: the survivor
            CustomerReference(customer_id=987654),
            # known by email; the phone is new and becomes Sara's
            CustomerReference(identities=[("email", "sara@x.org"), ("phone", "+989121234567")]),
            # one new person given twice (shared telegram), with a profile from the first
            CustomerReference(identities=[("telegram", "li_wei")], profile={"first_name": "Wei"}),
            CustomerReference(identities=[("email", "wei@x.cn"), ("telegram", "li_wei")]),
            CustomerReference(identities=[("email", "bad@x.org")], profile={"locale": "xx"}),
        ]
    )
    wei = results[4].customer_id
    assert results[:4] == [
        (sara.pk, None),
        (sara.pk, None),
        (None, "unknown customer id 987654"),
        (sara.pk, None),
    ]
    assert results[5] == (wei, None) and wei not in (None, sara.pk)
    assert results[6].customer_id is None and "locale" in (results[6].error or "")
    assert Customer.objects.get(pk=wei).first_name == "Wei"
    assert sorted(Identity.objects.filter(customer_id=wei).values_list("kind", "value")) == [
        ("email", "wei@x.cn"),
        ("telegram", "li_wei"),
    ]
    assert Identity.objects.get(kind="phone").customer_id == sara.pk
    assert "+989121234567" in Customer.objects.get(pk=sara.pk).search_text
    assert not Identity.objects.filter(value="bad@x.org").exists()


def test_find_or_create_keeps_a_known_customer_as_it_is() -> None:
    pk, created = customer_find_or_create(
        data={"first_name": "Reza", "identities": {"phone": "09121234567"}}
    )
    assert created
    again, created_again = customer_find_or_create(
        data={"first_name": "Other", "identities": {"phone": "+98 912 123 4567"}}
    )
    assert (again, created_again) == (pk, False)
    assert Customer.objects.get().first_name == "Reza"


@pytest.mark.parametrize("module", [ingest, commerce_services, csv_import])
def test_ingestion_orders_and_csv_do_not_write_customers_themselves(module) -> None:  # type: ignore[no-untyped-def]
    source = inspect.getsource(module)
    writes = re.findall(r"(?:Customer|Identity)(?:\.objects\.\w*create|\(\*\*)", source)
    assert writes == []
    assert "khoshnud.customers.resolution import" in source


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs two writers at once (SQLite serialises them)",
)
@pytest.mark.django_db(transaction=True)
def test_a_person_created_by_a_concurrent_writer_first_is_not_created_twice() -> None:
    """Writer 1 creates sara@ and has not committed; writer 2 wants sara@ and a phone. Writer 2
    waits on the identity, then finds writer 1's customer and gives the phone to it."""
    import threading
    import time

    from django.db import connections, transaction

    claimed = threading.Event()
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def writer_1() -> None:
        try:
            with transaction.atomic():
                [(cid, _)] = customers_resolve(
                    references=[
                        CustomerReference(
                            identities=[("email", "sara@x.org")], profile={"first_name": "Sara"}
                        )
                    ]
                )
                results["1"] = cid  # type: ignore[assignment]
                claimed.set()
                time.sleep(0.5)  # writer 2 is now blocked on the identity
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def writer_2() -> None:
        claimed.wait(10)
        try:
            with transaction.atomic():
                [(cid, _)] = customers_resolve(
                    references=[
                        CustomerReference(
                            identities=[("email", "sara@x.org"), ("phone", "+989121234567")],
                            profile={"first_name": "S."},
                        )
                    ]
                )
                results["2"] = cid  # type: ignore[assignment]
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer_1), threading.Thread(target=writer_2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert results["1"] == results["2"]
    assert list(Customer.objects.values_list("pk", "first_name")) == [(results["1"], "Sara")]
    assert sorted(Identity.objects.values_list("value", "customer_id")) == [
        ("+989121234567", results["1"]),
        ("sara@x.org", results["1"]),
    ]
