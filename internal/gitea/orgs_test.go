package gitea

import (
	"errors"
	"testing"
)

func TestOrgArgumentsRefusedBeforeSending(t *testing.T) {
	c := refuseAll(t)
	for _, org := range []string{"", ".", "..", "acme/teams", "acme%2f", "ac me"} {
		if _, err := c.Organization(t.Context(), org); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Organization(%q) error = %v, want ErrInvalidArgument", org, err)
		}
		if _, _, err := c.OrganizationTeams(t.Context(), org, ListOptions{}); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("OrganizationTeams(%q) error = %v, want ErrInvalidArgument", org, err)
		}
		if _, _, err := c.OrganizationRepositories(t.Context(), org, ListOptions{}); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("OrganizationRepositories(%q) error = %v, want ErrInvalidArgument", org, err)
		}
	}
}
