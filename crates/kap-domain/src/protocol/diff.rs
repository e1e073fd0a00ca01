//! A line diff between two versions of a protocol file, for the administrator uploading one.

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    Same(String),
    Added(String),
    Removed(String),
}

/// The lines of `new` against `old`, in order (longest common subsequence). A changed line
/// shows as the old line removed, then the new one added. Protocol files are a few hundred
/// lines, so the quadratic table is small.
pub fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let width = m + 1;
    let mut lcs = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * width + j] = if a[i] == b[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let mut out = Vec::with_capacity(n.max(m));
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            out.push(DiffLine::Same(a[i].to_owned()));
            i += 1;
            j += 1;
        } else if lcs[(i + 1) * width + j] >= lcs[i * width + j + 1] {
            out.push(DiffLine::Removed(a[i].to_owned()));
            i += 1;
        } else {
            out.push(DiffLine::Added(b[j].to_owned()));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| DiffLine::Removed((*l).to_owned())));
    out.extend(b[j..].iter().map(|l| DiffLine::Added((*l).to_owned())));
    out
}

#[cfg(test)]
mod tests {
    use super::DiffLine::{Added, Removed, Same};
    use super::*;

    fn s(x: &str) -> String {
        x.to_owned()
    }

    #[test]
    fn identical_files_are_all_same() {
        let t = "key = \"iv\"\nversion = 1\n";
        assert_eq!(
            diff(t, t),
            vec![Same(s("key = \"iv\"")), Same(s("version = 1"))]
        );
        assert_eq!(diff("", ""), vec![]);
    }

    #[test]
    fn an_inserted_line_is_added_in_place() {
        assert_eq!(
            diff("a\nc\n", "a\nb\nc\n"),
            vec![Same(s("a")), Added(s("b")), Same(s("c"))]
        );
        assert_eq!(diff("", "a"), vec![Added(s("a"))]);
    }

    #[test]
    fn a_deleted_line_is_removed_in_place() {
        assert_eq!(
            diff("a\nb\nc\n", "a\nc\n"),
            vec![Same(s("a")), Removed(s("b")), Same(s("c"))]
        );
        assert_eq!(diff("a\n", ""), vec![Removed(s("a"))]);
    }

    #[test]
    fn a_changed_line_is_removed_then_added() {
        let old = "version = 1\nmg_per_kg = 0.5\nname = \"x\"\n";
        let new = "version = 2\nmg_per_kg = 0.5\nname = \"x\"\n";
        assert_eq!(
            diff(old, new),
            vec![
                Removed(s("version = 1")),
                Added(s("version = 2")),
                Same(s("mg_per_kg = 0.5")),
                Same(s("name = \"x\"")),
            ]
        );
    }

    #[test]
    fn the_longest_common_part_is_kept() {
        let d = diff("a\nb\nc\nd\n", "b\nx\nd\ny\n");
        let same: Vec<&DiffLine> = d.iter().filter(|l| matches!(l, Same(_))).collect();
        assert_eq!(same, vec![&Same(s("b")), &Same(s("d"))]);
        // Replaying the diff gives both files back.
        let old: Vec<&str> = d
            .iter()
            .filter_map(|l| match l {
                Same(x) | Removed(x) => Some(x.as_str()),
                Added(_) => None,
            })
            .collect();
        let new: Vec<&str> = d
            .iter()
            .filter_map(|l| match l {
                Same(x) | Added(x) => Some(x.as_str()),
                Removed(_) => None,
            })
            .collect();
        assert_eq!(old, vec!["a", "b", "c", "d"]);
        assert_eq!(new, vec!["b", "x", "d", "y"]);
    }
}
