"""The demo-region generator: writes extracts exactly as real systems deliver them."""
