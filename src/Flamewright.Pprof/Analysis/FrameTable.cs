using System.Globalization;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Analysis;

/// <summary>
/// Names frames and gives each distinct name one id, shared by every profile of a merge so that the same
/// function in two instances is the same frame.
/// </summary>
internal sealed class FrameTable
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private GrowableArray<string> _names = new(256);
    private GrowableArray<string> _files = new(256);

    public FrameTable(FrameGranularity granularity) => Granularity = granularity;

    public FrameGranularity Granularity { get; }

    public int Count => _names.Count;

    public string this[int frame] => _names.Items[frame];

    public ReadOnlySpan<string> Names => _names.AsSpan();

    /// <summary>Per frame, the source file of its function (the first one seen, for a name in several files), or "".</summary>
    public ReadOnlySpan<string> Files => _files.AsSpan();

    /// <summary>The id of a frame name, or -1 when no frame has it.</summary>
    public int IdOf(string name) => _ids.TryGetValue(name, out int id) ? id : -1;

    public int Intern(string name, string file = "")
    {
        if (!_ids.TryGetValue(name, out int id))
        {
            id = _names.Count;
            _names.Add(name);
            _files.Add(file);
            _ids.Add(name, id);
        }
        else if (file.Length > 0 && _files.Items[id].Length == 0)
        {
            _files.AsSpan()[id] = file;
        }

        return id;
    }

    /// <summary>
    /// The frames of every location of <paramref name="profile"/>, leaf first: a location with inlined calls
    /// yields one frame per line, innermost callee first, as in the profile.
    /// </summary>
    public LocationFrames FramesOf(Profile profile)
    {
        ReadOnlySpan<Location> locations = profile.Locations;
        ReadOnlySpan<Line> lines = profile.Lines;
        var starts = new int[locations.Length + 1];
        var frames = new GrowableArray<int>(locations.Length + lines.Length);
        // Functions repeat across locations; name each function once per profile.
        var functionFrames = new int[profile.Functions.Length];
        Array.Fill(functionFrames, -1);
        for (int i = 0; i < locations.Length; i++)
        {
            starts[i] = frames.Count;
            Location location = locations[i];
            if (location.LineCount == 0)
            {
                frames.Add(Intern(UnsymbolizedName(profile, location)));
                continue;
            }

            foreach (Line line in lines.Slice(location.FirstLine, location.LineCount))
            {
                if (Granularity == FrameGranularity.Function && line.FunctionIndex >= 0)
                {
                    ref int cached = ref functionFrames[line.FunctionIndex];
                    if (cached < 0)
                    {
                        cached = Intern(NameOf(profile, location, line), profile.Functions[line.FunctionIndex].FileName);
                    }

                    frames.Add(cached);
                }
                else
                {
                    frames.Add(Intern(NameOf(profile, location, line), line.FunctionIndex >= 0 ? profile.Functions[line.FunctionIndex].FileName : ""));
                }
            }
        }

        starts[locations.Length] = frames.Count;
        return new LocationFrames(starts, frames.ToArray());
    }

    private string NameOf(Profile profile, Location location, Line line)
    {
        string name = line.FunctionIndex >= 0 ? profile.Functions[line.FunctionIndex].Name : "";
        if (name.Length == 0)
        {
            // pprof falls back to the binary's name, as for an unsymbolized location.
            return UnsymbolizedName(profile, location);
        }

        return Granularity == FrameGranularity.Line ? LineName(name, profile.Functions[line.FunctionIndex].FileName, line.LineNumber) : name;
    }

    /// <summary>
    /// A frame's name at line granularity, as <c>go tool pprof -lines</c> names it: <c>main.work /src/app/main.go:42</c>
    /// (<c>main.work /src/app/main.go</c> without a line number). A function without a file keeps the shorter
    /// <c>main.work:42</c>, where pprof writes <c>main.work :42</c>.
    /// </summary>
    internal static string LineName(string function, string file, long lineNumber) =>
        file.Length == 0 ? string.Create(CultureInfo.InvariantCulture, $"{function}:{lineNumber}")
        : lineNumber == 0 ? $"{function} {file}"
        : string.Create(CultureInfo.InvariantCulture, $"{function} {file}:{lineNumber}");

    /// <summary>
    /// Whether <paramref name="frame"/> is <paramref name="function"/> itself or, as <see cref="LineName"/> writes them,
    /// one of its lines: <c>function /path/file.go:42</c> (Go writes absolute paths, so the file starts with a slash or
    /// a drive, while Go names may hold spaces) or <c>function:42</c> without a file.
    /// </summary>
    internal static bool IsFrameOf(string frame, string function)
    {
        if (!frame.StartsWith(function, StringComparison.Ordinal))
        {
            return false;
        }

        ReadOnlySpan<char> rest = frame.AsSpan(function.Length);
        return rest.IsEmpty
            || (rest[0] == ':' && rest.Length > 1 && long.TryParse(rest[1..], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            || (rest.Length > 1 && rest[0] == ' ' && (rest[1] == '/' || (rest.Length > 3 && char.IsAsciiLetter(rest[1]) && rest[2] == ':' && rest[3] is '/' or '\\')));
    }

    /// <summary>pprof's name for a frame without a function: <c>[binary]</c>, or <c>&lt;unknown&gt;</c>.</summary>
    private static string UnsymbolizedName(Profile profile, Location location)
    {
        if (location.HasMapping)
        {
            string file = profile.Mappings[location.MappingIndex].FileName;
            if (file.Length > 0)
            {
                return "[" + Path.GetFileName(file) + "]";
            }
        }

        return "<unknown>";
    }
}

/// <summary>Frame ids per location index, leaf first: location i has frames [Starts[i], Starts[i+1]).</summary>
internal readonly record struct LocationFrames(int[] Starts, int[] Frames)
{
    public ReadOnlySpan<int> Of(int location) => Frames.AsSpan(Starts[location], Starts[location + 1] - Starts[location]);
}
