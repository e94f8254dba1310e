//! The table cursor every list shares.

/// The table cursor shared by every list: the selected row and the first visible one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub selected: usize,
    pub offset: usize,
}

impl Cursor {
    /// Moves by `delta` rows within `len` rows.
    pub(crate) fn step(&mut self, delta: isize, len: usize) {
        if len == 0 {
            *self = Self::default();
            return;
        }
        self.selected = self.selected.saturating_add_signed(delta).min(len - 1);
    }

    pub(crate) fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
        self.offset = self.offset.min(self.selected);
    }

    /// Keeps the selection within a window of `height` rows starting at `offset`.
    #[must_use]
    pub(crate) fn scrolled(self, height: usize) -> Self {
        let height = height.max(1);
        let mut offset = self.offset.min(self.selected);
        if self.selected >= offset + height {
            offset = self.selected + 1 - height;
        }
        Self {
            selected: self.selected,
            offset,
        }
    }
}
