package server_test

import (
	"testing"

	"github.com/switchboard-dev/switchboard/internal/server"
)

func TestPrivatePolicy(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		addr             string
		allow            *bool
		wantRefuse, hide bool
	}{
		{"127.0.0.1:8080", nil, false, false},
		{"127.0.0.53:8080", nil, false, false},
		{"[::1]:8080", nil, false, false},
		{"localhost:8080", nil, false, false},
		{"0.0.0.0:8080", nil, true, true},
		{":8080", nil, true, true},
		{"[::]:8080", nil, true, true},
		{"10.1.2.3:8080", nil, true, true},
		{"192.0.2.10:8080", nil, true, true},
		{"0.0.0.0:8080", &yes, false, true},
		{"127.0.0.1:8080", &no, true, false},
		{"[::]:8080", &no, true, true},
	}
	for _, tt := range tests {
		refuse, hide := server.PrivatePolicy(tt.addr, tt.allow)
		if refuse != tt.wantRefuse || hide != tt.hide {
			t.Errorf("PrivatePolicy(%q, %v) = refuse %v, hide %v; want %v, %v", tt.addr, tt.allow, refuse, hide, tt.wantRefuse, tt.hide)
		}
	}
}
