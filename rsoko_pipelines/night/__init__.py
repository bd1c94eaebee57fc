"""The night: what it must do (plan), running it as a real run of the code location (launch), its record (report)."""
