//! The care-team thread: messages, mentions, tasks and seen marks.
