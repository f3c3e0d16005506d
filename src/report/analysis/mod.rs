//! Each analysis's outputs: its terminal view, and the tables and JSON it
//! writes into its output folder.

pub mod backtest;
pub mod calibration;
pub mod compare;
pub mod haircuts;
pub mod margin_history;
pub mod settlement;
pub mod worst_window;
