// Package hardware describes accelerators (peak FLOP/s per dtype, memory capacity and
// bandwidth, interconnect, power, price) and loads the GPU catalogue: the embedded
// data/gpus.toml, optionally extended or overridden by user TOML files of the same schema.
package hardware
