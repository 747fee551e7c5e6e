"""crmlink: an open Universal CRM API."""
