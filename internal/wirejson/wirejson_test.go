package wirejson

import "testing"

func TestMarshalKeepsAmpersand(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{map[string]string{"name": "AT&T"}, `{"name":"AT&T"}`},
		{"<b>", `"<b>"`},
		{[]int{1, 2}, `[1,2]`},
	}
	for _, tt := range tests {
		got, err := Marshal(tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}
