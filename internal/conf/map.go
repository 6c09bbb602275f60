package conf

// Map is a parsed block: keys in the order they were first written, each
// with the position of the key and of its value.
type Map struct {
	entries []Entry
	index   map[string]int
}

// Entry is one key of a Map.
type Entry struct {
	Key    string
	KeyPos Pos
	Value  *Value

	// Referenced is set when a later $variable resolved to this key.
	// nats-server does not report such keys as unknown options, because
	// defining a value once and referring to it is how variables work.
	Referenced bool
}

func newMap() *Map { return &Map{index: map[string]int{}} }

// Len returns the number of distinct keys.
func (m *Map) Len() int { return len(m.entries) }

// Get returns the value of key. Keys are case-sensitive here; nats-server
// lower-cases option names itself, and so should the options layer.
func (m *Map) Get(key string) (*Value, bool) {
	i, ok := m.index[key]
	if !ok {
		return nil, false
	}
	return m.entries[i].Value, true
}

// Entry returns the entry of key, with its key position and whether it was
// referenced as a variable.
func (m *Map) Entry(key string) (Entry, bool) {
	i, ok := m.index[key]
	if !ok {
		return Entry{}, false
	}
	return m.entries[i], true
}

// Entries returns a copy of the entries in order.
func (m *Map) Entries() []Entry {
	return append([]Entry(nil), m.entries...)
}

// Interface converts the map to a map[string]any (see Value.Interface).
func (m *Map) Interface() map[string]any {
	out := make(map[string]any, len(m.entries))
	for _, e := range m.entries {
		out[e.Key] = e.Value.Interface()
	}
	return out
}

// set stores a key. A repeated key replaces the earlier value, as
// nats-server's map assignment does, but keeps its place in the order so a
// walk over the keys still follows the file.
func (m *Map) set(e Entry) {
	if i, ok := m.index[e.Key]; ok {
		m.entries[i] = e
		return
	}
	m.index[e.Key] = len(m.entries)
	m.entries = append(m.entries, e)
}

// markReferenced records that key was used as a variable.
func (m *Map) markReferenced(key string) {
	if i, ok := m.index[key]; ok {
		m.entries[i].Referenced = true
	}
}
