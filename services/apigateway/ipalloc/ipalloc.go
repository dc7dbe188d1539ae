// Package ipalloc hands out service cluster IPs from a CIDR. Allocations are
// etcd keys written in the same transaction as the Service (see the
// gateway's registry), so two gateways can never give one IP twice; this
// package only picks candidates and names their keys.
package ipalloc

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/netip"
)

// KeyPrefix is where allocated IPs are recorded in etcd.
const KeyPrefix = "/shoal/ranges/serviceips/"

// Allocator picks addresses of one CIDR.
type Allocator struct {
	prefix netip.Prefix
	// usable is the number of addresses between the network address and
	// the last address (both excluded).
	usable *big.Int
}

// New parses the range, e.g. "10.96.0.0/16".
func New(cidr string) (*Allocator, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("ipalloc: service CIDR %q: %w", cidr, err)
	}
	p = p.Masked()
	hostBits := p.Addr().BitLen() - p.Bits()
	if hostBits < 2 {
		return nil, fmt.Errorf("ipalloc: service CIDR %q is too small", cidr)
	}
	size := new(big.Int).Lsh(big.NewInt(1), uint(hostBits))
	return &Allocator{prefix: p, usable: size.Sub(size, big.NewInt(2))}, nil
}

// CIDR is the range.
func (a *Allocator) CIDR() netip.Prefix { return a.prefix }

// Contains reports whether ip can be allocated from the range.
func (a *Allocator) Contains(ip netip.Addr) bool {
	if !a.prefix.Contains(ip) {
		return false
	}
	off := a.offset(ip)
	return off.Sign() > 0 && off.Cmp(a.usable) <= 0
}

func (a *Allocator) offset(ip netip.Addr) *big.Int {
	base := new(big.Int).SetBytes(a.prefix.Addr().AsSlice())
	return new(big.Int).Sub(new(big.Int).SetBytes(ip.AsSlice()), base)
}

// Random returns a random allocatable address; the caller tries it and asks
// again when it is taken.
func (a *Allocator) Random() netip.Addr {
	var off *big.Int
	if a.usable.IsInt64() {
		off = big.NewInt(rand.Int64N(a.usable.Int64()) + 1)
	} else {
		r := new(big.Int).Lsh(new(big.Int).SetUint64(rand.Uint64()), 64)
		r.Or(r, new(big.Int).SetUint64(rand.Uint64()))
		off = r.Mod(r, a.usable).Add(r, big.NewInt(1))
	}
	base := new(big.Int).SetBytes(a.prefix.Addr().AsSlice())
	b := new(big.Int).Add(base, off).FillBytes(make([]byte, a.prefix.Addr().BitLen()/8))
	ip, _ := netip.AddrFromSlice(b)
	return ip
}

// Key is the etcd key that records ip's allocation.
func Key(ip netip.Addr) string { return KeyPrefix + ip.String() }
