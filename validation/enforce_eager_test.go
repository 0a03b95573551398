package validation

import (
	"strconv"
	"strings"
	"testing"
)

// TestEnforceEagerColumn: the optional enforce_eager column reads true/false (any case) or
// empty (false); a missing column is false; anything else is a bad row naming the field
// and the allowed values.
func TestEnforceEagerColumn(t *testing.T) {
	const head = "id,model,gpu,metric,value,enforce_eager\n"
	for _, c := range []struct {
		csv     string
		want    bool
		wantErr string
	}{
		{head + "x,m,MI300X,batch_elapsed_s,280.8,true\n", true, ""},
		{head + "x,m,MI300X,batch_elapsed_s,280.8,TRUE\n", true, ""},
		{head + "x,m,MI300X,batch_elapsed_s,280.8,false\n", false, ""},
		{head + "x,m,MI300X,batch_elapsed_s,280.8,\n", false, ""},
		{head + "x,m,MI300X,batch_elapsed_s,280.8\n", false, ""}, // short record: the column is empty
		{"id,model,gpu,metric,value\nx,m,MI300X,batch_elapsed_s,280.8\n", false, ""},
		{head + "x,m,MI300X,batch_elapsed_s,280.8,yes\n", false, `t.csv:2: enforce_eager: "yes": allowed values are true, false (empty: false)`},
		{head + "x,m,MI300X,batch_elapsed_s,280.8,1\n", false, `t.csv:2: enforce_eager: "1": allowed values are true, false (empty: false)`},
	} {
		rows, err := ReadRows(strings.NewReader(c.csv), "t.csv")
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("%q: error %v, want %s", c.csv, err, c.wantErr)
			}
			continue
		}
		if err != nil || len(rows) != 1 || rows[0].EnforceEager != c.want {
			t.Errorf("%q: rows %+v, error %v; want one row with EnforceEager %v", c.csv, rows, err, c.want)
		}
	}
}

// TestEmbeddedEnforceEagerRows: exactly the dstack MI300X offline runs whose command in the
// source has --enforce-eager (DSTK405-0035..0110: benchmark_throughput.py --enforce-eager,
// data/validation/README.md) carry enforce_eager = true in the embedded data.
func TestEmbeddedEnforceEagerRows(t *testing.T) {
	rows, err := ReadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		want := false
		if id, ok := strings.CutPrefix(r.ID, "DSTK405-"); ok {
			k, err := strconv.Atoi(id)
			want = err == nil && k >= 35 && k <= 110
		}
		if r.EnforceEager != want {
			t.Errorf("%s (%s, %d GPUs, kv %q, %s): enforce_eager %v, want %v", r.ID, r.GPU, r.NumGPUs, r.KVDtype, r.Workload, r.EnforceEager, want)
		}
		if r.EnforceEager {
			n++
			if r.GPU != "MI300X" || r.NumGPUs != 8 || r.Workload != "offline" {
				t.Errorf("%s: enforce_eager on %s × %d, %s: the source's eager runs are 8 × MI300X offline", r.ID, r.GPU, r.NumGPUs, r.Workload)
			}
		}
	}
	if n != 76 {
		t.Errorf("%d rows with enforce_eager, want 76 (DSTK405-0035..0110)", n)
	}
}
