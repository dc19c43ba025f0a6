package scimserver

import (
	"strings"
	"testing"
)

func TestJSONDepth(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"Scalar", `"x"`, 0},
		{"Object", `{"a":1}`, 1},
		{"Nested", `{"a":[{"b":[]}]}`, 4},
		{"BracketsInStrings", `{"a":"[[[{{{","b":"\"[["}`, 1},
		{"EscapedBackslash", `{"a":"\\","b":[1]}`, 2},
		{"Deep", strings.Repeat("[", 40) + strings.Repeat("]", 40), 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jsonDepth([]byte(tt.in)); got != tt.want {
				t.Errorf("jsonDepth(%s) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}
