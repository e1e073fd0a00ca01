//! Therapy notes, their addenda, co-signatures, psychotherapy-note grants and templates.
