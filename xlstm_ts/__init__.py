"""xlstm_ts: time-series forecasting with xLSTM."""

__version__ = "0.1.0"
