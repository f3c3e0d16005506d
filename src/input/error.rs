//! Input errors, each naming where in the input it was found.

use std::fmt;

/// Where in the input a problem was found: file, data row and field as far as known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file's path as the user gave it (or `embedded:<name>`).
    pub file: String,
    /// 1-based data row (the header is not counted).
    pub row: Option<usize>,
    pub field: Option<String>,
}

impl Location {
    pub fn file(file: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            row: None,
            field: None,
        }
    }

    pub fn row(mut self, row: usize) -> Self {
        self.row = Some(row);
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(row) = self.row {
            write!(f, ", row {row}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        Ok(())
    }
}

/// Everything that can be wrong with a snapshot or scenario file.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A value is present but wrong; `message` says what was expected and what was found.
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl InputError {
    pub fn invalid(location: Location, message: impl Into<String>) -> Self {
        Self::Invalid {
            location,
            message: message.into(),
        }
    }

    pub fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// The same error found in `file`: for a check that knows the key or row
    /// but not the path the value was read from.
    pub fn in_file(self, file: impl Into<String>) -> Self {
        match self {
            Self::Invalid {
                mut location,
                message,
            } => {
                location.file = file.into();
                Self::Invalid { location, message }
            }
            Self::Io { source, .. } => Self::io(file, source),
        }
    }
}
