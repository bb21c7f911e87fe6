/* Khoshnud date picker: a Jalali month grid with Persian digits for fa, a Gregorian one written
 * YYYY-MM-DD for zh. No dependencies, no inline script (CSP-friendly); the field stays a plain
 * text input that the server reads, so typing a date by hand (any digits) and no-JS both work.
 *
 * Markup (web/_date_field.html):
 *   <span class="datepicker" data-calendar="jalali|gregorian" data-digits="fa|latn"
 *         data-months='[..12 names..]' data-weekdays='[..7 names from the first day..]'
 *         data-first-day="6" data-title-format="{month} {year}" data-label-prev=".." ...>
 *     <input type="text" name="from" ...> <button type="button" class="datepicker-toggle">…
 *
 * Jalali <-> Gregorian through Julian day numbers, after the jalaali-js algorithm (MIT,
 * Behrang Noruzi Niya), checked against Python's jdatetime for every day 1900-2100.
 */
(function () {
  "use strict";

  function div(a, b) { return ~~(a / b); }
  function mod(a, b) { return a - ~~(a / b) * b; }

  var BREAKS = [-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097,
    2192, 2262, 2324, 2394, 2456, 3178];

  function jalCal(jy) {
    var gy = jy + 621, leapJ = -14, jp = BREAKS[0], jm, jump = 0, leap, leapG, march, n, i;
    for (i = 1; i < BREAKS.length; i += 1) {
      jm = BREAKS[i];
      jump = jm - jp;
      if (jy < jm) break;
      leapJ = leapJ + div(jump, 33) * 8 + div(mod(jump, 33), 4);
      jp = jm;
    }
    n = jy - jp;
    leapJ = leapJ + div(n, 33) * 8 + div(mod(n, 33) + 3, 4);
    if (mod(jump, 33) === 4 && jump - n === 4) leapJ += 1;
    leapG = div(gy, 4) - div((div(gy, 100) + 1) * 3, 4) - 150;
    march = 20 + leapJ - leapG;
    if (jump - n < 6) n = n - jump + div(jump + 4, 33) * 33;
    leap = mod(mod(n + 1, 33) - 1, 4);
    if (leap === -1) leap = 4;
    return { leap: leap, gy: gy, march: march };
  }

  function g2d(gy, gm, gd) {
    var d = div((gy + div(gm - 8, 6) + 100100) * 1461, 4) + div(153 * mod(gm + 9, 12) + 2, 5) +
      gd - 34840408;
    return d - div(div(gy + 100100 + div(gm - 8, 6), 100) * 3, 4) + 752;
  }

  function d2g(jdn) {
    var j = 4 * jdn + 139361631;
    j = j + div(div(4 * jdn + 183187720, 146097) * 3, 4) * 4 - 3908;
    var i = div(mod(j, 1461), 4) * 5 + 308;
    var gd = div(mod(i, 153), 5) + 1;
    var gm = mod(div(i, 153), 12) + 1;
    var gy = div(j, 1461) - 100100 + div(8 - gm, 6);
    return [gy, gm, gd];
  }

  function j2d(jy, jm, jd) {
    var r = jalCal(jy);
    return g2d(r.gy, 3, r.march) + (jm - 1) * 31 - div(jm, 7) * (jm - 7) + jd - 1;
  }

  function d2j(jdn) {
    var gy = d2g(jdn)[0], jy = gy - 621, r = jalCal(jy), k = jdn - g2d(gy, 3, r.march);
    if (k >= 0) {
      if (k <= 185) return [jy, 1 + div(k, 31), mod(k, 31) + 1];
      k -= 186;
    } else {
      jy -= 1;
      k += 179;
      if (r.leap === 1) k += 1;
    }
    return [jy, 7 + div(k, 30), mod(k, 30) + 1];
  }

  // One calendar = how a (year, month, day) maps to a day number, and how long a month is.
  var CALENDARS = {
    jalali: { toDay: j2d, fromDay: d2j },
    gregorian: { toDay: g2d, fromDay: d2g }
  };
  function monthLength(cal, y, m) {
    var ny = m === 12 ? y + 1 : y, nm = m === 12 ? 1 : m + 1;
    return cal.toDay(ny, nm, 1) - cal.toDay(y, m, 1);
  }

  var PERSIAN = "۰۱۲۳۴۵۶۷۸۹", ARABIC = "٠١٢٣٤٥٦٧٨٩";
  function latin(text) {
    return String(text).replace(/[۰-۹٠-٩]/g, function (c) {
      var i = PERSIAN.indexOf(c);
      return String(i >= 0 ? i : ARABIC.indexOf(c));
    });
  }
  function digits(text, system) {
    text = String(text);
    return system === "fa" ? text.replace(/[0-9]/g, function (c) { return PERSIAN[+c]; }) : text;
  }
  function pad(n, width) { n = String(n); while (n.length < width) n = "0" + n; return n; }

  function todayNumber() {
    var now = new Date();
    return g2d(now.getFullYear(), now.getMonth() + 1, now.getDate());
  }

  // What the field holds, as a day number: Jalali if the year is below 1700, as the server reads.
  function parseField(text) {
    var parts = latin(text).trim().replace(/[/.年月]/g, "-").replace(/日$/, "").split("-");
    if (parts.length !== 3 || !parts.every(function (p) { return /^\d+$/.test(p); })) return null;
    var y = +parts[0], m = +parts[1], d = +parts[2];
    if (m < 1 || m > 12 || d < 1 || d > 31) return null;
    var cal = y < 1700 ? CALENDARS.jalali : CALENDARS.gregorian;
    if (d > monthLength(cal, y, m)) return null;
    return cal.toDay(y, m, d);
  }

  function Picker(root) {
    this.root = root;
    this.input = root.querySelector("input");
    this.toggle = root.querySelector(".datepicker-toggle");
    this.calName = root.dataset.calendar === "jalali" ? "jalali" : "gregorian";
    this.cal = CALENDARS[this.calName];
    this.system = root.dataset.digits || "latn";
    this.months = JSON.parse(root.dataset.months);
    this.weekdays = JSON.parse(root.dataset.weekdays);
    this.firstDay = +(root.dataset.firstDay || 1); // 0 = Sunday … 6 = Saturday
    this.panel = null;
  }

  Picker.prototype.format = function (dayNumber) {
    var ymd = this.cal.fromDay(dayNumber);
    var sep = this.calName === "jalali" ? "/" : "-";
    return digits(pad(ymd[0], 4) + sep + pad(ymd[1], 2) + sep + pad(ymd[2], 2), this.system);
  };

  Picker.prototype.open = function () {
    var selected = parseField(this.input.value);
    this.selected = selected;
    var ymd = this.cal.fromDay(selected === null ? todayNumber() : selected);
    this.year = ymd[0];
    this.month = ymd[1];
    this.focusDay = selected === null ? todayNumber() : selected;
    if (!this.panel) {
      this.panel = document.createElement("div");
      this.panel.className = "datepicker-panel";
      this.panel.setAttribute("role", "dialog");
      this.panel.setAttribute("aria-label", this.root.dataset.labelDialog || "");
      this.root.appendChild(this.panel);
    }
    this.panel.hidden = false;
    this.toggle.setAttribute("aria-expanded", "true");
    this.render(true);
  };

  Picker.prototype.close = function (refocus) {
    if (!this.panel || this.panel.hidden) return;
    this.panel.hidden = true;
    this.toggle.setAttribute("aria-expanded", "false");
    if (refocus) this.toggle.focus();
  };

  Picker.prototype.shift = function (months) {
    var index = this.year * 12 + (this.month - 1) + months;
    this.year = div(index, 12);
    this.month = mod(index, 12) + 1;
    this.focusDay = this.cal.toDay(this.year, this.month, 1);
    this.render(false);
  };

  Picker.prototype.button = function (cls, label, text) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    if (label) b.setAttribute("aria-label", label);
    b.textContent = text;
    return b;
  };

  Picker.prototype.render = function (focus) {
    var self = this, ds = this.root.dataset, panel = this.panel;
    panel.textContent = "";
    var head = document.createElement("div");
    head.className = "datepicker-head";
    // In RTL the "previous" arrow points right: the characters mirror with the layout.
    var prev = this.button("datepicker-prev", ds.labelPrev, "‹");
    var next = this.button("datepicker-next", ds.labelNext, "›");
    var title = document.createElement("span");
    title.className = "datepicker-title";
    title.setAttribute("aria-live", "polite");
    title.textContent = (ds.titleFormat || "{month} {year}")
      .replace("{month}", this.months[this.month - 1])
      .replace("{year}", digits(this.year, this.system))
      .replace("{m}", digits(this.month, this.system));
    prev.addEventListener("click", function () { self.shift(-1); });
    next.addEventListener("click", function () { self.shift(1); });
    head.append(prev, title, next);

    var table = document.createElement("table");
    table.className = "datepicker-grid";
    table.setAttribute("role", "grid");
    var thead = table.createTHead().insertRow();
    this.weekdays.forEach(function (name) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = name;
      thead.appendChild(th);
    });
    var body = table.createTBody();
    var first = this.cal.toDay(this.year, this.month, 1);
    var length = monthLength(this.cal, this.year, this.month);
    // Day number 0 (JDN) was a Monday: (jdn + 1) % 7 is 0 for Sunday … 6 for Saturday.
    var lead = mod(mod(first + 1, 7) - this.firstDay + 7, 7);
    var today = todayNumber(), row = body.insertRow(), cell, d;
    for (d = 0; d < lead; d += 1) row.insertCell();
    for (d = 1; d <= length; d += 1) {
      if (row.cells.length === 7) row = body.insertRow();
      var number = first + d - 1;
      var b = this.button("datepicker-day", this.format(number), digits(d, this.system));
      b.dataset.day = String(number);
      b.tabIndex = number === this.focusDay ? 0 : -1;
      if (number === today) b.classList.add("is-today");
      if (number === this.selected) b.setAttribute("aria-pressed", "true");
      cell = row.insertCell();
      cell.appendChild(b);
    }
    while (row.cells.length < 7) row.insertCell();
    body.addEventListener("click", function (event) {
      var target = event.target.closest(".datepicker-day");
      if (target) self.choose(+target.dataset.day);
    });
    body.addEventListener("keydown", function (event) { self.onKey(event); });

    var foot = document.createElement("div");
    foot.className = "datepicker-foot";
    var todayButton = this.button("datepicker-today", "", ds.labelToday || "Today");
    todayButton.addEventListener("click", function () { self.choose(todayNumber()); });
    var clear = this.button("datepicker-clear", "", ds.labelClear || "Clear");
    clear.addEventListener("click", function () { self.set(""); });
    foot.append(todayButton, clear);
    panel.append(head, table, foot);
    if (focus !== false || panel.contains(document.activeElement) === false) {
      var target = panel.querySelector('.datepicker-day[tabindex="0"]') ||
        panel.querySelector(".datepicker-day");
      if (focus && target) target.focus();
    }
  };

  Picker.prototype.onKey = function (event) {
    var rtl = getComputedStyle(this.root).direction === "rtl";
    var steps = { ArrowLeft: rtl ? 1 : -1, ArrowRight: rtl ? -1 : 1, ArrowUp: -7, ArrowDown: 7 };
    if (!(event.key in steps)) return;
    event.preventDefault();
    var day = +event.target.dataset.day + steps[event.key];
    var ymd = this.cal.fromDay(day);
    this.focusDay = day;
    if (ymd[0] !== this.year || ymd[1] !== this.month) {
      this.year = ymd[0];
      this.month = ymd[1];
      this.render(true);
    } else {
      var target = this.panel.querySelector('[data-day="' + day + '"]');
      this.panel.querySelectorAll(".datepicker-day").forEach(function (b) { b.tabIndex = -1; });
      target.tabIndex = 0;
      target.focus();
    }
  };

  Picker.prototype.choose = function (dayNumber) { this.set(this.format(dayNumber)); };

  Picker.prototype.set = function (text) {
    this.input.value = text;
    this.input.dispatchEvent(new Event("input", { bubbles: true }));
    this.input.dispatchEvent(new Event("change", { bubbles: true }));
    this.close(true);
  };

  function pickerOf(element) {
    var root = element.closest(".datepicker");
    if (!root) return null;
    if (!root._picker) root._picker = new Picker(root);
    return root._picker;
  }

  document.addEventListener("click", function (event) {
    // A click on a month arrow re-renders the panel: its button is gone from the page by now.
    if (!event.target.isConnected) return;
    var toggle = event.target.closest(".datepicker-toggle");
    document.querySelectorAll(".datepicker").forEach(function (root) {
      if (root._picker && !root.contains(event.target)) root._picker.close(false);
    });
    if (!toggle) return;
    var picker = pickerOf(toggle);
    if (picker.panel && !picker.panel.hidden) picker.close(true);
    else picker.open();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var picker = event.target.closest ? pickerOf(event.target) : null;
    if (picker) picker.close(true);
  });

  // Exposed for tests of the arithmetic (tests run it in the browser against the server's dates).
  window.khoshnudCalendars = { jalaliToDay: j2d, dayToJalali: d2j, gregorianToDay: g2d,
    dayToGregorian: d2g };
  document.documentElement.classList.add("has-js");
})();
