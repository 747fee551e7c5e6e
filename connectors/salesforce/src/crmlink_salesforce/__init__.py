"""crmlink connector for Salesforce."""
