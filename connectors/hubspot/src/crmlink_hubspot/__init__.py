"""crmlink connector for HubSpot."""
