package validation

// apimachinery checks names with regular expressions, which made name
// checks half of validating a pod. Every name in a valid object passes the
// byte-wise checks below, which accept exactly what those expressions (and
// length limits) accept; only a name they reject goes to apimachinery, so
// error messages stay apimachinery's.

// withFastPath returns check, answered by ok alone when ok accepts.
func withFastPath(ok func(string) bool, check nameFunc) nameFunc {
	return func(s string) []string {
		if ok(s) {
			return nil
		}
		return check(s)
	}
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// labelChars is [a-z0-9]([-a-z0-9]*[a-z0-9])? without a length limit.
func labelChars(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLower(c) && !isDigit(c) && (c != '-' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

// dns1123LabelOK: at most 63 characters of labelChars.
func dns1123LabelOK(s string) bool { return len(s) <= 63 && labelChars(s) }

// dns1035LabelOK: a DNS-1123 label that starts with a letter.
func dns1035LabelOK(s string) bool { return dns1123LabelOK(s) && isLower(s[0]) }

// dns1123SubdomainOK: at most 253 characters, labelChars parts joined by
// dots.
func dns1123SubdomainOK(s string) bool {
	if len(s) > 253 {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if !labelChars(s[start:i]) {
				return false
			}
			start = i + 1
		}
	}
	return true
}

// portNameOK: at most 15 characters of labelChars, at least one a letter,
// no two hyphens in a row (an IANA service name).
func portNameOK(s string) bool {
	if len(s) > 15 || !labelChars(s) {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		if s[i] == '-' && s[i+1] == '-' { // labelChars: s does not end with '-'
			return false
		}
		letter = letter || isLower(s[i])
	}
	return letter
}
