package auth

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Well-known groups and users.
const (
	GroupMasters     = "system:masters"     // everything
	GroupControllers = "system:controllers" // scheduler, controller, xds: everything but other nodes' identity
	GroupNodes       = "system:nodes"       // node agents
	GroupReaders     = "system:readers"     // get, list, watch
	NodeUserPrefix   = "system:node:"
	UserAnonymous    = "system:anonymous"
)

// User is an authenticated caller.
type User struct {
	Name   string
	UID    string
	Groups []string
}

// InGroup reports membership.
func (u *User) InGroup(g string) bool {
	for _, have := range u.Groups {
		if have == g {
			return true
		}
	}
	return false
}

// ErrUnauthenticated: no or unknown credentials.
var ErrUnauthenticated = errors.New("auth: missing or unknown bearer token")

// Tokens authenticates bearer tokens.
type Tokens struct {
	users map[string]*User
}

// LoadTokenFile reads lines of `token,user,uid,"group1,group2"`.
func LoadTokenFile(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth: token file: %w", err)
	}
	defer f.Close()
	return ParseTokens(f)
}

// ParseTokens reads a token file's content.
func ParseTokens(r io.Reader) (*Tokens, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	t := &Tokens{users: map[string]*User{}}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("auth: token file line %d: %w", line, err)
		}
		if len(rec) < 2 || rec[0] == "" || rec[1] == "" {
			return nil, fmt.Errorf("auth: token file line %d: want token,user[,uid[,groups]]", line)
		}
		u := &User{Name: rec[1]}
		if len(rec) > 2 {
			u.UID = rec[2]
		}
		if len(rec) > 3 && rec[3] != "" {
			for _, g := range strings.Split(rec[3], ",") {
				u.Groups = append(u.Groups, strings.TrimSpace(g))
			}
		}
		if _, dup := t.users[rec[0]]; dup {
			return nil, fmt.Errorf("auth: token file line %d: duplicate token", line)
		}
		t.users[rec[0]] = u
	}
}

// Authenticate returns the user a bearer token belongs to.
func (t *Tokens) Authenticate(token string) (*User, error) {
	if u, ok := t.users[token]; ok && token != "" {
		return u, nil
	}
	return nil, ErrUnauthenticated
}

// Attributes describe one request for authorization.
type Attributes struct {
	Verb      string // create, get, list, update, updatestatus, delete, watch, bind, logs
	Kind      string // Pod, Node...
	Namespace string
	Name      string
}

// Authorize decides whether u may do a. The rules are Shoal's built-in
// roles; they are the minimum each component needs.
func Authorize(u *User, a Attributes) error {
	if u.InGroup(GroupMasters) || u.InGroup(GroupControllers) {
		return nil
	}
	read := a.Verb == "get" || a.Verb == "list" || a.Verb == "watch" || a.Verb == "logs"
	if read && (u.InGroup(GroupReaders) || u.InGroup(GroupNodes)) {
		return nil
	}
	if u.InGroup(GroupNodes) {
		node := strings.TrimPrefix(u.Name, NodeUserPrefix)
		switch a.Kind {
		case "Node":
			// A node manages its own Node object only.
			if (a.Verb == "create" || a.Verb == "update" || a.Verb == "updatestatus") && a.Name == node && node != u.Name {
				return nil
			}
		case "Lease":
			if a.Verb == "create" || a.Verb == "update" || a.Verb == "delete" {
				return nil
			}
		case "Pod":
			if a.Verb == "updatestatus" || a.Verb == "delete" {
				return nil
			}
		case "Event":
			if a.Verb == "create" || a.Verb == "update" {
				return nil
			}
		}
	}
	return fmt.Errorf("user %q may not %s %s %q", u.Name, a.Verb, a.Kind, a.Name)
}
