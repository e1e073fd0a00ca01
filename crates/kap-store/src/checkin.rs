//! Check-in links and the check-ins patients send through them.
