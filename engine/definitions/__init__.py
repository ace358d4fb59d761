"""Case-type definitions: BPMN parsing, the TOML configuration, forms and deploy-time checks."""
