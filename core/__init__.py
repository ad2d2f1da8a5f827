"""Framework-free building blocks shared by the gateway and every pipeline function."""
