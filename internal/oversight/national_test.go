package oversight

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fill sets every field reachable from v: each string to a marker naming
// its path, each number to n, each slice to one filled element, each time
// to t0.
func fill(v reflect.Value, path string, n int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("SECRET:" + path)
	case reflect.Int, reflect.Int64:
		if v.Type() == reflect.TypeFor[time.Duration]() {
			v.SetInt(int64(time.Hour))
			return
		}
		v.SetInt(int64(n))
	case reflect.Float64:
		v.SetFloat(float64(n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), path+"[0]", n)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, path+".key", n)
		fill(e, path+".value", n)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), path, n)
		v.Set(p)
	case reflect.Interface:
		v.Set(reflect.ValueOf("SECRET:" + path))
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), path+"."+v.Type().Field(i).Name, n)
			}
		}
	}
}

// TestReduceKeepsCountsOnly: a report with every field set, every text a
// marker, reduces to figures in which no text of the report survives,
// and every figure is carried.
func TestReduceKeepsCountsOnly(t *testing.T) {
	var r Report
	fill(reflect.ValueOf(&r).Elem(), "report", 7)
	f := Reduce(r)
	out, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var csv bytes.Buffer
	if err := WriteNationalCSV(&csv, BuildNational(r.From, r.To, r.Now, []TenantFigures{{ID: "force-a", Name: "Force A", Figures: f}})); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{string(out), csv.String()} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("the national figures keep text of the report:\n%s", s)
		}
	}
	fv := reflect.ValueOf(f)
	for i := range fv.NumField() {
		field := fv.Field(i)
		if field.Kind() == reflect.Pointer {
			field = field.Elem()
		}
		if field.IsZero() {
			t.Errorf("Figures.%s is zero: a count of the report was not carried", fv.Type().Field(i).Name)
		}
	}
	if f.Submitted != 7 || f.BreakGlass != 7 || *f.DecisionMedianSeconds != 7 || f.NoticePercent != 7 {
		t.Errorf("Reduce = %+v, want the report's totals", f)
	}
}

func TestBuildNational(t *testing.T) {
	ptr := func(n int64) *int64 { return &n }
	iptr := func(n int) *int { return &n }
	a := Figures{Submitted: 3, Authorised: 2, Decided: 2, DecisionMedianSeconds: ptr(60), DecisionP90Seconds: ptr(90), DecisionMaxSeconds: 100,
		Authorisations: 2, Accesses: 5, AccessesMin: 1, AccessesMedian: iptr(2), AccessesMax: 4, NoticeStaff: 10, NoticeAcknowledged: 5, BreakGlass: 1}
	b := Figures{Submitted: 1, Refused: 1, Decided: 1, DecisionMedianSeconds: ptr(30), DecisionP90Seconds: ptr(30), DecisionMaxSeconds: 300,
		NoticeStaff: 10, NoticeAcknowledged: 10, RefusedAttempts: 4}
	c := Figures{Authorisations: 1, Accesses: 9, AccessesMin: 9, AccessesMedian: iptr(9), AccessesMax: 9}
	rep := BuildNational(time.Time{}, time.Time{}, time.Time{}, []TenantFigures{{ID: "a", Figures: a}, {ID: "b", Figures: b}, {ID: "c", Figures: c}})
	want := Figures{Submitted: 4, Authorised: 2, Refused: 1, Decided: 3, DecisionMaxSeconds: 300, Authorisations: 3, Accesses: 14,
		AccessesMin: 1, AccessesMax: 9, NoticeStaff: 20, NoticeAcknowledged: 15, NoticePercent: 75, BreakGlass: 1, RefusedAttempts: 4}
	if got := rep.Total; fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("BuildNational total = %+v\nwant %+v", got, want)
	}
	if rep := BuildNational(time.Time{}, time.Time{}, time.Time{}, nil); rep.Tenants == nil {
		t.Error("BuildNational(none) lists tenants as null")
	}
}
