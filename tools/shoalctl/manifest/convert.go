package manifest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// converter walks one document's tree alongside a proto message and
// collects every problem it meets.
type converter struct {
	loc  location
	errs ErrorList
}

func (c *converter) fail(path, format string, args ...any) {
	c.errs = append(c.errs, &Error{loc: c.loc, Path: path, Detail: fmt.Sprintf(format, args...)})
}

func (c *converter) unsupported(path string) { c.fail(path, "not supported by Shoal") }

// convertDocument converts one parsed document, which may be a List.
func convertDocument(loc location, tree map[string]any) ([]Document, ErrorList) {
	apiVersion, _ := tree["apiVersion"].(string)
	kind, _ := tree["kind"].(string)
	loc.kind = kind
	if meta, ok := tree["metadata"].(map[string]any); ok {
		loc.name, _ = meta["name"].(string)
	}
	switch {
	case apiVersion == "":
		return nil, ErrorList{{loc: loc, Path: "apiVersion", Detail: "Required value"}}
	case kind == "":
		return nil, ErrorList{{loc: loc, Path: "kind", Detail: "Required value"}}
	case kind == "List" && (apiVersion == "v1" || apiVersion == APIVersion) && loc.item == 0:
		return convertList(loc, tree)
	}
	target, ok := resolveKind(apiVersion, kind)
	if !ok {
		return nil, ErrorList{{loc: loc, Detail: fmt.Sprintf("apiVersion %q, kind %q: not supported by Shoal (%s)", apiVersion, kind, supportedKinds())}}
	}
	if target.rewrite != nil {
		target.rewrite(tree)
	}
	obj := target.kind.New()
	c := &converter{loc: loc}
	c.object(obj, tree)
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return []Document{{Source: loc.source, Index: loc.index, Item: loc.item, APIVersion: apiVersion, Kind: kind, Object: obj}}, nil
}

func convertList(loc location, tree map[string]any) ([]Document, ErrorList) {
	var docs []Document
	var errs ErrorList
	for key := range tree {
		switch key {
		case "apiVersion", "kind", "items", "metadata":
		default:
			errs = append(errs, &Error{loc: loc, Path: key, Detail: "not supported by Shoal"})
		}
	}
	items, ok := tree["items"].([]any)
	if !ok && tree["items"] != nil {
		return nil, append(errs, &Error{loc: loc, Path: "items", Detail: "Invalid value: expected a list"})
	}
	for i, item := range items {
		iloc := loc
		iloc.item = i + 1
		iloc.kind, iloc.name = "", ""
		m, ok := item.(map[string]any)
		if !ok {
			errs = append(errs, &Error{loc: iloc, Detail: "Invalid value: expected an object"})
			continue
		}
		d, e := convertDocument(iloc, m)
		docs = append(docs, d...)
		errs = append(errs, e...)
	}
	return docs, errs
}

// object converts a whole document into obj: apiVersion and kind were used
// to pick obj's type, status is ignored.
func (c *converter) object(obj kinds.Object, tree map[string]any) {
	rest := make(map[string]any, len(tree))
	for k, v := range tree {
		switch k {
		case "apiVersion", "kind", "status":
		default:
			rest[k] = v
		}
	}
	c.message(obj.ProtoReflect(), rest, "")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// message fills m from v, which must be an object.
func (c *converter) message(m protoreflect.Message, v any, path string) {
	md := m.Descriptor()
	if h, ok := messageHandlers[md.FullName()]; ok && h(c, m, v, path) {
		return
	}
	if strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		c.wellKnown(m, v, path)
		return
	}
	obj, ok := v.(map[string]any)
	if !ok {
		c.fail(path, "Invalid value: %s: expected an object", describeValue(v))
		return
	}
	keys := sortedKeys(obj)
	special := keyRules[md.FullName()]
	// Fields first, then the keys with rules, so that a translated key
	// (appProtocol) wins over the plain field it sets (protocol).
	var later []string
	for _, key := range keys {
		if _, ok := special[key]; ok {
			later = append(later, key)
			continue
		}
		fd := findField(md, key)
		if fd == nil {
			c.unsupported(join(path, key))
			continue
		}
		c.field(m, fd, obj[key], join(path, key))
	}
	for _, key := range later {
		special[key](c, m, obj[key], join(path, key))
	}
}

// findField matches a key to a field: by JSON name (containerPort), by proto
// name (container_port), then by JSON name ignoring case, which maps
// Kubernetes' acronyms (hostIP, podCIDR) to proto's (hostIp, podCidr).
func findField(md protoreflect.MessageDescriptor, key string) protoreflect.FieldDescriptor {
	fields := md.Fields()
	if fd := fields.ByJSONName(key); fd != nil {
		return fd
	}
	if fd := fields.ByName(protoreflect.Name(key)); fd != nil {
		return fd
	}
	for i := range fields.Len() {
		if strings.EqualFold(fields.Get(i).JSONName(), key) {
			return fields.Get(i)
		}
	}
	return nil
}

// field sets one field of m from v. A null value leaves it unset.
func (c *converter) field(m protoreflect.Message, fd protoreflect.FieldDescriptor, v any, path string) {
	if v == nil {
		return
	}
	if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
		if other := m.WhichOneof(od); other != nil && other != fd {
			c.fail(path, "Forbidden: may not be set together with %s", other.JSONName())
			return
		}
	}
	switch {
	case fd.IsMap():
		obj, ok := v.(map[string]any)
		if !ok {
			c.fail(path, "Invalid value: %s: expected an object", describeValue(v))
			return
		}
		mp := m.Mutable(fd).Map()
		for _, key := range sortedKeys(obj) {
			ev := obj[key]
			kpath := path + "[" + key + "]"
			mk, ok := c.scalar(fd.MapKey(), key, kpath)
			if !ok {
				continue
			}
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				c.message(mp.Mutable(mk.MapKey()).Message(), ev, kpath)
				continue
			}
			if ev == nil {
				c.fail(kpath, "Invalid value: null: expected %s", kindWord(fd.MapValue()))
				continue
			}
			if val, ok := c.scalar(fd.MapValue(), ev, kpath); ok {
				mp.Set(mk.MapKey(), val)
			}
		}
	case fd.IsList():
		items, ok := v.([]any)
		if !ok {
			c.fail(path, "Invalid value: %s: expected a list", describeValue(v))
			return
		}
		list := m.Mutable(fd).List()
		for i, item := range items {
			ipath := fmt.Sprintf("%s[%d]", path, i)
			if fd.Kind() == protoreflect.MessageKind {
				el := list.NewElement()
				c.message(el.Message(), item, ipath)
				list.Append(el)
				continue
			}
			if val, ok := c.scalar(fd, item, ipath); ok {
				list.Append(val)
			}
		}
	case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
		c.message(m.Mutable(fd).Message(), v, path)
	default:
		if val, ok := c.scalar(fd, v, path); ok {
			m.Set(fd, val)
		}
	}
}

// scalar converts a leaf value for a field of a scalar or enum kind.
func (c *converter) scalar(fd protoreflect.FieldDescriptor, v any, path string) (protoreflect.Value, bool) {
	bad := func() (protoreflect.Value, bool) {
		c.fail(path, "Invalid value: %s: expected %s", describeValue(v), kindWord(fd))
		return protoreflect.Value{}, false
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		return protoreflect.ValueOfString(s), true
	case protoreflect.BoolKind:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		return protoreflect.ValueOfBool(b), true
	case protoreflect.BytesKind:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return bad()
		}
		return protoreflect.ValueOfBytes(b), true
	case protoreflect.EnumKind:
		return c.enum(fd.Enum(), v, path)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		f, err := strconv.ParseFloat(numberText(v), 64)
		if err != nil {
			return bad()
		}
		if fd.Kind() == protoreflect.FloatKind {
			return protoreflect.ValueOfFloat32(float32(f)), true
		}
		return protoreflect.ValueOfFloat64(f), true
	}
	// Integers: a JSON number, or a decimal string (protojson writes 64-bit
	// integers as strings).
	text := numberText(v)
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := strconv.ParseInt(text, 10, 32)
		if err != nil {
			return bad()
		}
		return protoreflect.ValueOfInt32(int32(n)), true
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return bad()
		}
		return protoreflect.ValueOfInt64(n), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := strconv.ParseUint(text, 10, 32)
		if err != nil {
			return bad()
		}
		return protoreflect.ValueOfUint32(uint32(n)), true
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			return bad()
		}
		return protoreflect.ValueOfUint64(n), true
	}
	return bad()
}

// numberText is the text of a JSON number or a string; "" for anything else.
func numberText(v any) string {
	switch x := v.(type) {
	case json.Number:
		return string(x)
	case string:
		return x
	}
	return ""
}

// enum maps a value to an enum number. Accepted spellings, for
// RESTART_POLICY_ON_FAILURE: the full name, the Kubernetes word "OnFailure"
// (the suffix after the enum's prefix, in CamelCase), the suffix itself
// "ON_FAILURE", and the number. The empty string is the zero value.
func (c *converter) enum(ed protoreflect.EnumDescriptor, v any, path string) (protoreflect.Value, bool) {
	values := ed.Values()
	switch x := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(string(x), 10, 32)
		if err == nil && values.ByNumber(protoreflect.EnumNumber(n)) != nil {
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), true
		}
	case string:
		if x == "" {
			return protoreflect.ValueOfEnum(0), true
		}
		if ev := values.ByName(protoreflect.Name(x)); ev != nil {
			return protoreflect.ValueOfEnum(ev.Number()), true
		}
		prefix := enumPrefix(ed)
		if ev := values.ByName(protoreflect.Name(prefix + upperSnake(x))); ev != nil && ev.Number() != 0 {
			return protoreflect.ValueOfEnum(ev.Number()), true
		}
	}
	c.fail(path, "Unsupported value: %s: supported values: %s", describeValue(v), strings.Join(enumWords(ed), ", "))
	return protoreflect.Value{}, false
}

// enumPrefix is the common prefix of an enum's value names, taken from its
// zero value: "RESTART_POLICY_" from RESTART_POLICY_UNSPECIFIED.
func enumPrefix(ed protoreflect.EnumDescriptor) string {
	zero := string(ed.Values().ByNumber(0).Name())
	return strings.TrimSuffix(zero, "UNSPECIFIED")
}

// enumWords are an enum's non-zero values as Kubernetes spells them, quoted.
func enumWords(ed protoreflect.EnumDescriptor) []string {
	prefix := enumPrefix(ed)
	var out []string
	for i := range ed.Values().Len() {
		ev := ed.Values().Get(i)
		if ev.Number() == 0 {
			continue
		}
		out = append(out, strconv.Quote(camelWord(strings.TrimPrefix(string(ev.Name()), prefix))))
	}
	return out
}

// acronyms keep their capitals in CamelCase words.
var acronyms = map[string]bool{"TCP": true, "UDP": true, "HTTP": true, "HTTPS": true, "GRPC": true, "IP": true}

// camelWord turns IF_NOT_PRESENT into IfNotPresent and PROTOCOL_TCP's TCP
// into TCP.
func camelWord(s string) string {
	var b strings.Builder
	for _, w := range strings.Split(s, "_") {
		if acronyms[w] || w == "" {
			b.WriteString(w)
			continue
		}
		b.WriteString(w[:1] + strings.ToLower(w[1:]))
	}
	return b.String()
}

// upperSnake turns IfNotPresent into IF_NOT_PRESENT, TCP into TCP and
// HTTPGet into HTTP_GET.
func upperSnake(s string) string {
	var b strings.Builder
	runes := []rune(s)
	for i, r := range runes {
		isUpper := r >= 'A' && r <= 'Z'
		if isUpper && i > 0 {
			prev := runes[i-1]
			prevLower := (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9')
			prevUpper := prev >= 'A' && prev <= 'Z'
			nextLower := i+1 < len(runes) && runes[i+1] >= 'a' && runes[i+1] <= 'z'
			if prevLower || (prevUpper && nextLower) {
				b.WriteByte('_')
			}
		}
		if r == '-' || r == ' ' {
			b.WriteByte('_')
			continue
		}
		b.WriteString(strings.ToUpper(string(r)))
	}
	return b.String()
}

// wellKnown fills a google.protobuf message (Timestamp, Duration...) from
// its JSON form, which protojson defines.
func (c *converter) wellKnown(m protoreflect.Message, v any, path string) {
	js, err := json.Marshal(v)
	if err == nil {
		tmp := dynamicpb.NewMessage(m.Descriptor())
		if err = protojson.Unmarshal(js, tmp); err == nil {
			tmp.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
				m.Set(fd, val)
				return true
			})
			return
		}
	}
	c.fail(path, "Invalid value: %s: expected a %s", describeValue(v), m.Descriptor().Name())
}

// kindWord names what a field expects, for errors.
func kindWord(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return "a string"
	case protoreflect.BoolKind:
		return "true or false"
	case protoreflect.BytesKind:
		return "base64 bytes"
	case protoreflect.EnumKind:
		return "one of " + strings.Join(enumWords(fd.Enum()), ", ")
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return "a number"
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return fmt.Sprintf("an integer (at most %d)", math.MaxInt32)
	case protoreflect.MessageKind:
		return "an object"
	}
	return "an integer"
}

// describeValue prints a value in errors the way Kubernetes does: strings
// quoted, numbers bare.
func describeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case json.Number:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprint(v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// EnumWord is an enum value as Kubernetes spells it: POD_PHASE_RUNNING is
// "Running", SERVICE_PROTOCOL_GRPC is "GRPC". Unknown numbers print as
// numbers.
func EnumWord(ed protoreflect.EnumDescriptor, n protoreflect.EnumNumber) string {
	ev := ed.Values().ByNumber(n)
	if ev == nil {
		return strconv.Itoa(int(n))
	}
	return camelWord(strings.TrimPrefix(string(ev.Name()), enumPrefix(ed)))
}
