"""Recurrent networks: TF1 RNN cells under `dynamic_rnn` become Keras `LSTM`/`GRU` layers (work in progress)."""
