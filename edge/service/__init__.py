"""Running gate-edge as a service: systemd notification and the watchdog."""
