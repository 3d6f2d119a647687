"""Body temperature from an infrared thermometer."""
