package gguf

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// small is a file with every metadata type and two tensors, used by several tests.
func small() ([]KV, []Tensor) {
	kvs := []KV{
		{"u8", uint8(200)}, {"i8", int8(-5)}, {"u16", uint16(60000)}, {"i16", int16(-300)},
		{"u32", uint32(4e9)}, {"i32", int32(-2e9)}, {"f32", float32(1.5)}, {"b", true},
		{"s", "héllo"}, {"u64", uint64(1) << 40}, {"i64", int64(-1) << 40}, {"f64", math.Pi},
		{"au8", []uint8{1, 2}}, {"ai8", []int8{-1}}, {"au16", []uint16{7}}, {"ai16", []int16{-7}},
		{"au32", []uint32{1, 2, 3}}, {"ai32", []int32{-1, 1}}, {"af32", []float32{0.25}},
		{"ab", []bool{true, false}}, {"as", []string{"a", "", "▁b"}}, {"au64", []uint64{9}},
		{"ai64", []int64{-9}}, {"af64", []float64{2.5}}, {"empty", []string{}},
	}
	ts := []Tensor{
		{Name: "a", Dims: []uint64{3}, Data: []float32{1, 2, 3}},
		{Name: "b", Dims: []uint64{2, 2}, Data: []float32{-1, 0.5, 7, 8}},
	}
	return kvs, ts
}

func TestRoundTrip(t *testing.T) {
	kvs, ts := small()
	var buf bytes.Buffer
	if err := Write(&buf, kvs, ts); err != nil {
		t.Fatal(err)
	}
	f, err := Read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 3 || f.Alignment != 32 {
		t.Errorf("version %d alignment %d, want 3 and 32", f.Version, f.Alignment)
	}
	if !reflect.DeepEqual(f.KV, kvs) {
		t.Errorf("metadata differs:\n got %#v\nwant %#v", f.KV, kvs)
	}
	if !reflect.DeepEqual(f.Tensors, ts) || !reflect.DeepEqual(f.Types, []uint32{TypeF32, TypeF32}) {
		t.Errorf("tensors differ:\n got %#v %v\nwant %#v", f.Tensors, f.Types, ts)
	}
	// Tensor a (12 bytes) is padded to 32, so b starts at 32 and ends at 48, padded to 64:
	// the data section is the last 64 bytes and starts at a multiple of 32.
	if n := buf.Len(); n%32 != 0 {
		t.Errorf("file length %d is not a multiple of the 32-byte alignment", n)
	}
	b := buf.Bytes()
	if got := math.Float32frombits(le32(b[len(b)-64+32:])); got != -1 {
		t.Errorf("first value of tensor b at data offset 32 is %v, want -1", got)
	}
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func TestHeaderBytes(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, []KV{{"k", uint32(7)}}, nil); err != nil {
		t.Fatal(err)
	}
	// Hand-assembled per the GGUF v3 layout: magic, version 3, 0 tensors, 1 entry,
	// key length 1, "k", type 4 (uint32), value 7, then zero padding to 32 bytes.
	want := []byte("GGUF\x03\x00\x00\x00" + "\x00\x00\x00\x00\x00\x00\x00\x00" + "\x01\x00\x00\x00\x00\x00\x00\x00" +
		"\x01\x00\x00\x00\x00\x00\x00\x00k" + "\x04\x00\x00\x00" + "\x07\x00\x00\x00")
	want = append(want, make([]byte, 64-len(want))...)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("got  % x\nwant % x", buf.Bytes(), want)
	}
}

func TestWriteErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		kvs  []KV
		ts   []Tensor
		want string
	}{
		{"unsupported type", []KV{{"k", 3}}, nil, "unsupported value type int"},
		{"nested array", []KV{{"k", [][]string{{"a"}}}}, nil, "unsupported value type"},
		{"duplicate key", []KV{{"k", true}, {"k", false}}, nil, `duplicate metadata key "k"`},
		{"bad alignment", []KV{{"general.alignment", uint32(12)}}, nil, "multiple of 8"},
		{"alignment type", []KV{{"general.alignment", uint64(32)}}, nil, "multiple of 8"},
		{"data length", nil, []Tensor{{Name: "t", Dims: []uint64{2, 2}, Data: []float32{1}}}, `"t" has dims [2 2] but 1 values`},
		{"no dims", nil, []Tensor{{Name: "t"}}, `"t" has dims`},
		{"duplicate tensor", nil, []Tensor{{Name: "t", Dims: []uint64{1}, Data: []float32{1}}, {Name: "t", Dims: []uint64{1}, Data: []float32{1}}}, "duplicate tensor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Write(&bytes.Buffer{}, tc.kvs, tc.ts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	kvs, ts := small()
	var buf bytes.Buffer
	if err := Write(&buf, kvs, ts); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	// Every truncation that cuts into a tensor or the header must fail cleanly. The data
	// section is the last 64 bytes: a at 0–12, b at 32–48, then 16 bytes of padding.
	for n := range len(good) - 16 {
		if _, err := Read(good[:n]); err == nil {
			t.Fatalf("Read of the first %d of %d bytes succeeded", n, len(good))
		}
	}
	for _, tc := range []struct {
		name string
		edit func(b []byte)
		want string
	}{
		{"magic", func(b []byte) { b[0] = 'X' }, "bad magic"},
		{"version", func(b []byte) { b[4] = 2 }, "version 2"},
		{"huge count", func(b []byte) { b[23] = 0x7f }, "cannot fit"},
		{"value type", func(b []byte) { b[24+8+2] = 99 }, "unknown value type 99"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Clone(good)
			tc.edit(b)
			if _, err := Read(b); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func FuzzRead(f *testing.F) {
	kvs, ts := small()
	var buf bytes.Buffer
	if err := Write(&buf, kvs, ts); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("GGUF\x03\x00\x00\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Read(b)
		if err != nil {
			return
		}
		// Whatever decodes must encode again when it has only F32 tensors and writable values.
		for _, ty := range file.Types {
			if ty != TypeF32 {
				return
			}
		}
		var out bytes.Buffer
		if err := Write(&out, file.KV, file.Tensors); err != nil {
			return // e.g. duplicate keys, accepted by the reader
		}
		again, err := Read(out.Bytes())
		if err != nil {
			t.Fatalf("re-reading a written file: %v", err)
		}
		if len(again.KV) != len(file.KV) || len(again.Tensors) != len(file.Tensors) {
			t.Fatalf("round trip changed counts")
		}
	})
}

func ExampleWrite() {
	var buf bytes.Buffer
	err := Write(&buf, []KV{{"general.architecture", "llama"}}, []Tensor{{Name: "w", Dims: []uint64{2}, Data: []float32{1, 2}}})
	if err != nil {
		panic(err)
	}
	f, err := Read(buf.Bytes())
	if err != nil {
		panic(err)
	}
	arch, _ := f.Get("general.architecture")
	// 160 bytes by hand: header 24, metadata 8+20+4+8+5 = 45, tensor info 8+1+4+8+4+8 = 33,
	// 102 padded to 128, then 8 bytes of data padded to 32.
	fmt.Println(buf.Len(), "bytes;", arch, f.Tensors[0].Name, f.Tensors[0].Data)
	// Output: 160 bytes; llama w [1 2]
}
