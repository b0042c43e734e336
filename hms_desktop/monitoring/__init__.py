"""The ICU central station: live feed, per-bed buffers, bed tiles, the grid and a bed's trends."""
