using Flamewright.Pprof.Analysis;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Digest;

/// <summary>What a first look at a task shows: its whole-tree view cut at some width, and its whole top table.</summary>
public sealed record FirstLook(FlameView View, TopTable Top);

/// <summary>
/// A <see cref="FirstLook"/> as bytes to keep: the view of a whole tree at the widest width a server draws and the
/// tree's top table, a small fraction of the tree. A restarted server or another node answers a first look at any
/// narrower width from it (<see cref="FlameView.Narrowed"/>) without reading the tree. The frame names once each, then
/// the table's rows, the trail and the view's frames and narrower blocks. Framed, versioned and checked as the other
/// digests are (docs/digest.md).
/// </summary>
public static class FirstLookDigest
{
    /// <summary>The format this build writes and reads; a first-look digest of another version is not read.</summary>
    public const ushort FormatVersion = 2;

    /// <summary>"FWFL": the first bytes of every first-look digest.</summary>
    private const uint Magic = 0x4C465746;

    /// <exception cref="ArgumentException">A searched view: its marks belong to one search.</exception>
    public static byte[] Write(FirstLook look)
    {
        ArgumentNullException.ThrowIfNull(look);
        (FlameView view, TopTable top) = look;
        if (view.Searched)
        {
            throw new ArgumentException("a searched view is not kept", nameof(look));
        }

        var names = new StringTable();
        var body = new VarintWriter(view.Frames.Count * 12 + top.Entries.Count * 8 + 1024);
        body.Signed(top.Total);
        body.Signed(top.AbsoluteTotal);
        body.Count(top.Entries.Count);
        foreach (TopEntry entry in top.Entries)
        {
            body.Count(names.Index(entry.Name));
            body.Signed(entry.Flat);
            body.Signed(entry.Cum);
        }

        body.Count(view.WidthPixels);
        body.Unsigned((ulong)view.ScaledMinimum);
        body.Signed(view.Span);
        body.Signed(view.TreeTotal);
        body.Count(view.Root);
        body.Count(view.Ancestors.Count);
        foreach (ViewAncestor ancestor in view.Ancestors)
        {
            body.Count(ancestor.Node);
            body.Count(names.Index(ancestor.Name));
            body.Signed(ancestor.Total);
        }

        body.Count(view.Frames.Count);
        foreach (ViewFrame frame in view.Frames)
        {
            body.Count(frame.Node);
            body.Count(frame.Parent + 1);
            body.Count(frame.Depth);
            body.Count(names.Index(frame.Name));
            body.Signed(frame.Total);
            body.Signed(frame.Self);
            body.Count(names.Index(frame.File));
        }

        body.Count(view.Narrower.Count);
        foreach (NarrowerFrames block in view.Narrower)
        {
            body.Count(block.Parent);
            body.Count(block.Count);
            body.Signed(block.Total);
        }

        // The names go first, so that the reader knows every index's limit when it meets it.
        var output = new VarintWriter(body.Written.Length + (names.Strings.Count * 24) + 64);
        output.Text(top.SampleType.Type);
        output.Text(top.SampleType.Unit);
        output.Count(names.Strings.Count);
        foreach (string name in names.Strings)
        {
            output.Text(name);
        }

        output.Raw(body.Written);
        return DigestFrame.Wrap(Magic, FormatVersion, output.Written);
    }

    /// <exception cref="DigestException">Not a first-look digest, another format version, damaged, or not a view.</exception>
    public static FirstLook Read(ReadOnlySpan<byte> digest)
    {
        var input = new VarintReader(DigestFrame.Unwrap(digest, Magic, FormatVersion, "first-look digest"));
        var sampleType = new ValueType(input.Utf8(), input.Utf8());
        var names = new string[input.Count()];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = input.Utf8();
        }

        long total = input.Signed();
        long absoluteTotal = input.Signed();
        var entries = new TopEntry[input.Count()];
        for (int i = 0; i < entries.Length; i++)
        {
            entries[i] = new TopEntry(names[input.Index(names.Length)], input.Signed(), input.Signed());
        }

        int width = input.Index(int.MaxValue);
        ulong scaledMinimum = input.Unsigned();
        if (width < 1 || scaledMinimum < 1 || scaledMinimum > long.MaxValue)
        {
            throw new DigestException($"first-look digest of width {width} and minimum {scaledMinimum}");
        }

        long span = input.Signed();
        long treeTotal = input.Signed();
        int root = input.Index(int.MaxValue);
        var ancestors = new ViewAncestor[input.Count()];
        for (int i = 0; i < ancestors.Length; i++)
        {
            ancestors[i] = new ViewAncestor(input.Index(int.MaxValue), names[input.Index(names.Length)], input.Signed());
        }

        var frames = new ViewFrame[input.Count()];
        if (frames.Length < 1 || ancestors.Length < 1)
        {
            throw new DigestException("first-look digest without a root frame");
        }

        for (int i = 0; i < frames.Length; i++)
        {
            // Pre-order: a frame's parent comes before it, and only the first has none.
            int node = input.Index(int.MaxValue);
            int parent = input.Index(i + 1) - 1;
            if ((parent < 0) != (i == 0))
            {
                throw new DigestException($"first-look digest frame {i} with parent {parent}");
            }

            frames[i] = new ViewFrame(node, parent, input.Index(int.MaxValue), names[input.Index(names.Length)], input.Signed(), input.Signed(), Matched: false,
                File: names[input.Index(names.Length)]);
        }

        var narrower = new NarrowerFrames[input.Count()];
        for (int i = 0; i < narrower.Length; i++)
        {
            narrower[i] = new NarrowerFrames(input.Index(frames.Length), input.Index(int.MaxValue), input.Signed());
        }

        input.End("its narrower frames");
        var view = new FlameView(root, ancestors, treeTotal, frames, narrower, 0, span, width, (Int128)scaledMinimum, searched: false);
        return new FirstLook(view, new TopTable(sampleType, total, absoluteTotal, entries));
    }
}
