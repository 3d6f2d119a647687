"""Fleet provisioning on the gate: first-boot enrolment and the installed release."""
