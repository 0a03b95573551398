package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// Version is the GGUF version this package writes and reads.
const Version = 3

// DefaultAlignment is the tensor-data alignment in bytes when general.alignment is absent.
const DefaultAlignment = 32

// TypeF32 is the GGML tensor type of 32-bit floats, the only one this package writes or decodes.
const TypeF32 = 0

// Metadata value types of the GGUF format.
const (
	typeUint8   uint32 = 0
	typeInt8    uint32 = 1
	typeUint16  uint32 = 2
	typeInt16   uint32 = 3
	typeUint32  uint32 = 4
	typeInt32   uint32 = 5
	typeFloat32 uint32 = 6
	typeBool    uint32 = 7
	typeString  uint32 = 8
	typeArray   uint32 = 9
	typeUint64  uint32 = 10
	typeInt64   uint32 = 11
	typeFloat64 uint32 = 12
)

// KV is one metadata entry. Value is one of uint8, int8, uint16, int16, uint32,
// int32, uint64, int64, float32, float64, bool, string, or a slice of one of
// those (GGUF arrays); nested arrays are not supported.
type KV struct {
	Key   string
	Value any
}

// Tensor is one F32 tensor. Dims lists the extents, fastest-varying first;
// len(Data) must equal their product.
type Tensor struct {
	Name string
	Dims []uint64
	Data []float32
}

// File is the decoded content of a GGUF file.
type File struct {
	Version   uint32
	KV        []KV     // in file order
	Tensors   []Tensor // in file order; Data is nil for tensor types other than F32
	Types     []uint32 // GGML type of each tensor
	Alignment uint64   // bytes
}

// Get returns the value of metadata key k and whether it is present.
func (f *File) Get(k string) (any, bool) {
	for _, kv := range f.KV {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return nil, false
}

// Write writes a GGUF v3 file with the given metadata and F32 tensors to w.
// The alignment is read from a general.alignment entry (uint32) when there is
// one, else DefaultAlignment. It fails on an unsupported metadata type, a
// tensor whose data length differs from the product of its dims, a duplicate
// key or tensor name, or an alignment that is zero or not a multiple of 8.
func Write(w io.Writer, kvs []KV, tensors []Tensor) error {
	align := uint64(DefaultAlignment)
	keys := map[string]bool{}
	for _, kv := range kvs {
		if keys[kv.Key] {
			return fmt.Errorf("gguf: duplicate metadata key %q", kv.Key)
		}
		keys[kv.Key] = true
		if kv.Key == "general.alignment" {
			a, ok := kv.Value.(uint32)
			if !ok || a == 0 || a%8 != 0 {
				return fmt.Errorf("gguf: general.alignment must be a uint32 multiple of 8, got %v (%T)", kv.Value, kv.Value)
			}
			align = uint64(a)
		}
	}
	names := map[string]bool{}
	offsets := make([]uint64, len(tensors))
	var off uint64
	for i, t := range tensors {
		if names[t.Name] {
			return fmt.Errorf("gguf: duplicate tensor name %q", t.Name)
		}
		names[t.Name] = true
		n := uint64(1)
		for _, d := range t.Dims {
			n *= d
		}
		if len(t.Dims) == 0 || n != uint64(len(t.Data)) {
			return fmt.Errorf("gguf: tensor %q has dims %v but %d values", t.Name, t.Dims, len(t.Data))
		}
		offsets[i] = off
		off = pad(off+4*n, align)
	}

	cw := &countWriter{w: bufio.NewWriter(w)}
	cw.raw([]byte(Magic))
	cw.u32(Version)
	cw.u64(uint64(len(tensors)))
	cw.u64(uint64(len(kvs)))
	for _, kv := range kvs {
		cw.str(kv.Key)
		if err := cw.value(kv.Value, true); err != nil {
			return fmt.Errorf("gguf: metadata %q: %w", kv.Key, err)
		}
	}
	for i, t := range tensors {
		cw.str(t.Name)
		cw.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			cw.u64(d)
		}
		cw.u32(TypeF32)
		cw.u64(offsets[i])
	}
	cw.zeros(pad(cw.n, align) - cw.n)
	start := cw.n
	for i, t := range tensors {
		cw.zeros(start + offsets[i] - cw.n)
		for _, v := range t.Data {
			cw.u32(math.Float32bits(v))
		}
	}
	cw.zeros(pad(cw.n-start, align) - (cw.n - start))
	if cw.err != nil {
		return fmt.Errorf("gguf: %w", cw.err)
	}
	if err := cw.w.Flush(); err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	return nil
}

// pad rounds n up to a multiple of align.
func pad(n, align uint64) uint64 { return (n + align - 1) / align * align }

// countWriter writes little-endian values, counts bytes and keeps the first error.
type countWriter struct {
	w   *bufio.Writer
	n   uint64
	err error
	buf [8]byte
}

func (c *countWriter) raw(b []byte) {
	if c.err != nil {
		return
	}
	_, c.err = c.w.Write(b)
	c.n += uint64(len(b))
}
func (c *countWriter) u8(v uint8)   { c.raw([]byte{v}) }
func (c *countWriter) u16(v uint16) { binary.LittleEndian.PutUint16(c.buf[:], v); c.raw(c.buf[:2]) }
func (c *countWriter) u32(v uint32) { binary.LittleEndian.PutUint32(c.buf[:], v); c.raw(c.buf[:4]) }
func (c *countWriter) u64(v uint64) { binary.LittleEndian.PutUint64(c.buf[:], v); c.raw(c.buf[:8]) }
func (c *countWriter) str(s string) { c.u64(uint64(len(s))); c.raw([]byte(s)) }
func (c *countWriter) zeros(n uint64) {
	for ; n > 0; n-- {
		c.u8(0)
	}
}

// value writes v's type (when withType) and v.
func (c *countWriter) value(v any, withType bool) error {
	typ := func(t uint32) {
		if withType {
			c.u32(t)
		}
	}
	switch x := v.(type) {
	case uint8:
		typ(typeUint8)
		c.u8(x)
	case int8:
		typ(typeInt8)
		c.u8(uint8(x))
	case uint16:
		typ(typeUint16)
		c.u16(x)
	case int16:
		typ(typeInt16)
		c.u16(uint16(x))
	case uint32:
		typ(typeUint32)
		c.u32(x)
	case int32:
		typ(typeInt32)
		c.u32(uint32(x))
	case float32:
		typ(typeFloat32)
		c.u32(math.Float32bits(x))
	case bool:
		typ(typeBool)
		b := uint8(0)
		if x {
			b = 1
		}
		c.u8(b)
	case string:
		typ(typeString)
		c.str(x)
	case uint64:
		typ(typeUint64)
		c.u64(x)
	case int64:
		typ(typeInt64)
		c.u64(uint64(x))
	case float64:
		typ(typeFloat64)
		c.u64(math.Float64bits(x))
	case []uint8:
		return writeArray(c, typeUint8, x)
	case []int8:
		return writeArray(c, typeInt8, x)
	case []uint16:
		return writeArray(c, typeUint16, x)
	case []int16:
		return writeArray(c, typeInt16, x)
	case []uint32:
		return writeArray(c, typeUint32, x)
	case []int32:
		return writeArray(c, typeInt32, x)
	case []float32:
		return writeArray(c, typeFloat32, x)
	case []bool:
		return writeArray(c, typeBool, x)
	case []string:
		return writeArray(c, typeString, x)
	case []uint64:
		return writeArray(c, typeUint64, x)
	case []int64:
		return writeArray(c, typeInt64, x)
	case []float64:
		return writeArray(c, typeFloat64, x)
	default:
		return fmt.Errorf("unsupported value type %T", v)
	}
	return nil
}

func writeArray[T any](c *countWriter, elem uint32, xs []T) error {
	c.u32(typeArray)
	c.u32(elem)
	c.u64(uint64(len(xs)))
	for _, x := range xs {
		if err := c.value(x, false); err != nil {
			return err
		}
	}
	return nil
}

// Read decodes a GGUF v3 file held in b. Tensor data is decoded for F32
// tensors only. It fails, never panics, on truncated or malformed input: a
// wrong magic or version, an unknown value type, a nested array, counts larger
// than the input could hold, or tensor data that lies outside b.
func Read(b []byte) (*File, error) {
	r := &reader{b: b}
	if string(r.raw(4)) != Magic {
		return nil, errors.New("gguf: not a GGUF file (bad magic)")
	}
	f := &File{Version: r.u32(), Alignment: DefaultAlignment}
	if r.err == nil && f.Version != Version {
		return nil, fmt.Errorf("gguf: version %d, want %d", f.Version, Version)
	}
	nt, nkv := r.u64(), r.u64()
	if r.err != nil {
		return nil, fmt.Errorf("gguf: header: %w", r.err)
	}
	// Every entry takes at least 12 bytes, so larger counts are malformed input.
	if nkv > uint64(len(b))/12 || nt > uint64(len(b))/12 {
		return nil, fmt.Errorf("gguf: %d metadata entries and %d tensors cannot fit in %d bytes", nkv, nt, len(b))
	}
	for i := uint64(0); i < nkv && r.err == nil; i++ {
		k := r.str()
		v := r.value(r.u32(), true)
		f.KV = append(f.KV, KV{Key: k, Value: v})
		if a, ok := v.(uint32); ok && k == "general.alignment" {
			if a == 0 || a%8 != 0 {
				return nil, fmt.Errorf("gguf: general.alignment %d is not a positive multiple of 8", a)
			}
			f.Alignment = uint64(a)
		}
	}
	offsets := make([]uint64, 0, nt)
	for i := uint64(0); i < nt && r.err == nil; i++ {
		t := Tensor{Name: r.str()}
		nd := r.u32()
		if nd == 0 || nd > 4 {
			r.fail(fmt.Errorf("tensor %q has %d dims, want 1 to 4", t.Name, nd))
			break
		}
		for j := uint32(0); j < nd; j++ {
			t.Dims = append(t.Dims, r.u64())
		}
		f.Types = append(f.Types, r.u32())
		offsets = append(offsets, r.u64())
		f.Tensors = append(f.Tensors, t)
	}
	if r.err != nil {
		return nil, fmt.Errorf("gguf: at byte %d: %w", r.off, r.err)
	}
	start := pad(r.off, f.Alignment)
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if f.Types[i] != TypeF32 {
			continue
		}
		n := uint64(1)
		for _, d := range t.Dims {
			if d != 0 && n > math.MaxUint64/8/d {
				return nil, fmt.Errorf("gguf: tensor %q dims %v overflow", t.Name, t.Dims)
			}
			n *= d
		}
		lo := start + offsets[i]
		if offsets[i]%f.Alignment != 0 || lo < start || lo+4*n < lo || lo+4*n > uint64(len(b)) {
			return nil, fmt.Errorf("gguf: tensor %q data (offset %d, %d values) lies outside the file", t.Name, offsets[i], n)
		}
		t.Data = make([]float32, n)
		for j := range t.Data {
			t.Data[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[lo+4*uint64(j):]))
		}
	}
	return f, nil
}

// reader decodes little-endian values from a byte slice and keeps the first error.
type reader struct {
	b   []byte
	off uint64
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) raw(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b))-r.off {
		r.fail(io.ErrUnexpectedEOF)
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) u8() uint8 {
	if s := r.raw(1); s != nil {
		return s[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if s := r.raw(2); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if s := r.raw(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if s := r.raw(8); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

func (r *reader) str() string { return string(r.raw(r.u64())) }

// value decodes one value of type t; arrays are allowed only at the top level.
func (r *reader) value(t uint32, top bool) any {
	switch t {
	case typeUint8:
		return r.u8()
	case typeInt8:
		return int8(r.u8())
	case typeUint16:
		return r.u16()
	case typeInt16:
		return int16(r.u16())
	case typeUint32:
		return r.u32()
	case typeInt32:
		return int32(r.u32())
	case typeFloat32:
		return math.Float32frombits(r.u32())
	case typeBool:
		b := r.u8()
		if b > 1 {
			r.fail(fmt.Errorf("bool value %d", b))
		}
		return b == 1
	case typeString:
		return r.str()
	case typeUint64:
		return r.u64()
	case typeInt64:
		return int64(r.u64())
	case typeFloat64:
		return math.Float64frombits(r.u64())
	case typeArray:
		if !top {
			r.fail(errors.New("nested arrays are not supported"))
			return nil
		}
		return r.array()
	}
	r.fail(fmt.Errorf("unknown value type %d", t))
	return nil
}

func (r *reader) array() any {
	elem, n := r.u32(), r.u64()
	if r.err != nil {
		return nil
	}
	// Each element takes at least one byte, so a larger count is malformed input.
	if n > uint64(len(r.b))-r.off {
		r.fail(fmt.Errorf("array of %d elements exceeds the input", n))
		return nil
	}
	switch elem {
	case typeUint8:
		return readArray(r, n, (*reader).u8)
	case typeInt8:
		return readArray(r, n, func(r *reader) int8 { return int8(r.u8()) })
	case typeUint16:
		return readArray(r, n, (*reader).u16)
	case typeInt16:
		return readArray(r, n, func(r *reader) int16 { return int16(r.u16()) })
	case typeUint32:
		return readArray(r, n, (*reader).u32)
	case typeInt32:
		return readArray(r, n, func(r *reader) int32 { return int32(r.u32()) })
	case typeFloat32:
		return readArray(r, n, func(r *reader) float32 { return math.Float32frombits(r.u32()) })
	case typeBool:
		return readArray(r, n, func(r *reader) bool { return r.value(typeBool, false).(bool) })
	case typeString:
		return readArray(r, n, (*reader).str)
	case typeUint64:
		return readArray(r, n, (*reader).u64)
	case typeInt64:
		return readArray(r, n, func(r *reader) int64 { return int64(r.u64()) })
	case typeFloat64:
		return readArray(r, n, func(r *reader) float64 { return math.Float64frombits(r.u64()) })
	case typeArray:
		r.fail(errors.New("nested arrays are not supported"))
		return nil
	}
	r.fail(fmt.Errorf("unknown array element type %d", elem))
	return nil
}

func readArray[T any](r *reader, n uint64, next func(*reader) T) []T {
	xs := make([]T, 0, min(n, 1<<16))
	for i := uint64(0); i < n && r.err == nil; i++ {
		xs = append(xs, next(r))
	}
	return xs
}
