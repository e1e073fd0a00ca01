//! The care-team thread per patient: messages with @mentions, tasks with an assignee and a due
//! date, and "seen" marks; who may see what of it.
