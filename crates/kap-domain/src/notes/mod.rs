//! Therapy notes: preparation, in-session, integration and progress notes with their templates,
//! psychotherapy notes kept apart, draft → signed with a content hash, addenda, co-signature,
//! and the intentions and commitments a course carries from note to note.
