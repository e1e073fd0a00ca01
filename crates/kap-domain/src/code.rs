//! Stored codes: every enum that is written to the database or the API has exactly one string
//! form (its code) and one label for people, declared once with [`coded_enum!`].

/// A code that names no variant of the enum it was read as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} \"{given}\": use one of {allowed}")]
pub struct UnknownCode {
    pub kind: &'static str,
    pub given: String,
    pub allowed: String,
}

/// Declares an enum whose variants each have a code (stored, sent over the API) and a label
/// (shown to people): `Variant = "code" / "Label"`. Generates `ALL`, `as_str`, `label`,
/// `from_code` (case-insensitive, trimmed), `Display`, `FromStr` and serde as the code.
macro_rules! coded_enum {
    (
        $(#[$m:meta])*
        $vis:vis enum $name:ident as $kind:literal {
            $( $(#[$vm:meta])* $var:ident = $code:literal / $label:literal ),+ $(,)?
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vm])* $var ),+
        }

        impl $name {
            pub const ALL: [$name; <[&str]>::len(&[$(stringify!($var)),+])] = [$($name::$var),+];

            /// The one string form, as stored and sent.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $code),+ }
            }

            /// The name people see.
            pub fn label(self) -> &'static str {
                match self { $($name::$var => $label),+ }
            }

            /// The variant with this code, if any.
            pub fn from_code(s: &str) -> Option<Self> {
                let t = s.trim();
                Self::ALL.into_iter().find(|x| x.as_str().eq_ignore_ascii_case(t))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::code::UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::from_code(s).ok_or_else(|| $crate::code::UnknownCode {
                    kind: $kind,
                    given: s.to_owned(),
                    allowed: Self::ALL.map(Self::as_str).join(", "),
                })
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use coded_enum;

#[cfg(test)]
mod tests {
    coded_enum! {
        /// A test enum.
        pub enum Colour as "colour" {
            Red = "red" / "Red",
            DarkBlue = "dark_blue" / "Dark blue",
        }
    }

    #[test]
    fn codes_round_trip_and_unknown_codes_name_the_choices() {
        for c in Colour::ALL {
            assert_eq!(c.as_str().parse::<Colour>(), Ok(c));
            assert_eq!(Colour::from_code(&c.as_str().to_uppercase()), Some(c));
        }
        let e = "green".parse::<Colour>().err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("unknown colour \"green\": use one of red, dark_blue")
        );
        assert_eq!(Colour::DarkBlue.label(), "Dark blue");
        assert_eq!(
            serde_json::to_string(&Colour::DarkBlue).ok().as_deref(),
            Some("\"dark_blue\"")
        );
    }
}
