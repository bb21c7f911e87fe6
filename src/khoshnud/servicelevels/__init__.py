"""The service catalog: business calendars and the first-response / resolution targets."""
