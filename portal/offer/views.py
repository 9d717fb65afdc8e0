"""Offer entry: the four fiches Formation, Action, Session, Dispositif."""
