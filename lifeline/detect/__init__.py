"""lifeline.detect"""
