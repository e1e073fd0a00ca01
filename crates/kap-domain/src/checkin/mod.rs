//! Patient check-ins between sessions: mood, sleep, side effects, reflection on the intention,
//! a journal entry; the rules that flag one to the care team.
