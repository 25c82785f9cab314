package store

import "testing"

func TestIsActivityLog(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"activity", true},
		{"activity-1", true},
		{"activity-2", true},
		{"activity-10", true},
		{"activity-9999", true},
		{"activity-10000", false}, // past MaxShard
		{"activity-0", false},
		{"activity-01", false},
		{"activity-", false},
		{"activity-a", false},
		{"activity-1a", false},
		{"activity-+1", false},
		{"activity--1", false},
		{"activity-1 ", false},
		{"activity-١", false}, // a digit, but not an ASCII one
		{"Activity", false},
		{"activity1", false},
		{"activities", false},
		{"oversight", false},
		{"oversight-1", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsActivityLog(tt.name); got != tt.want {
			t.Errorf("IsActivityLog(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
