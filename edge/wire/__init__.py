"""The wire formats gate and central share: topics, commands, documents, platform, enrolment."""
