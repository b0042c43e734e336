"""Bedside monitoring on the server: the HL7/MLLP gateway, alarms, NEWS2 scoring, the live
monitor channel and the monitor simulator."""
