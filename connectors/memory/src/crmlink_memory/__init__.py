"""crmlink connector: a CRM in memory."""
