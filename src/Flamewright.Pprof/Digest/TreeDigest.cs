using Flamewright.Pprof.Analysis;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Digest;

/// <summary>
/// A built <see cref="FlameTree"/> as bytes to keep, so that a tree built once (a task's default view) is read back by
/// a restarted server or another node instead of being built again: its frame names once each, then per node in
/// pre-order its depth, frame and self value. Version 2 adds each name's source file. Parents, totals and subtree ends follow from those and are recomputed on
/// reading. Framed, versioned and checked as a profile digest is (docs/digest.md).
/// </summary>
public static class TreeDigest
{
    /// <summary>The format this build writes and reads; a tree digest of another version is built again, never read.</summary>
    public const ushort FormatVersion = 2;

    /// <summary>"FWTR": the first bytes of every tree digest.</summary>
    private const uint Magic = 0x52545746;

    public static byte[] Write(FlameTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ReadOnlySpan<int> frames = tree.NodeFrames;
        var output = new VarintWriter(frames.Length * 4 + 1024);
        output.Text(tree.SampleType.Type);
        output.Text(tree.SampleType.Unit);
        output.Count((int)tree.Granularity);
        output.Signed(tree.AbsoluteTotal);
        output.Count(tree.FrameNames.Length);
        foreach (string name in tree.FrameNames)
        {
            output.Text(name);
        }

        foreach (string file in tree.FrameFiles)
        {
            output.Text(file);
        }

        output.Count(frames.Length);
        output.Signed(tree.SelfOf(0));
        for (int node = 1; node < frames.Length; node++)
        {
            output.Count(tree.DepthOf(node));
            output.Count(frames[node]);
            output.Signed(tree.SelfOf(node));
        }

        return DigestFrame.Wrap(Magic, FormatVersion, output.Written);
    }

    /// <exception cref="DigestException">Not a tree digest, another format version, damaged, or not a tree.</exception>
    public static FlameTree Read(ReadOnlySpan<byte> digest)
    {
        var input = new VarintReader(DigestFrame.Unwrap(digest, Magic, FormatVersion, "tree digest"));
        var sampleType = new ValueType(input.Utf8(), input.Utf8());
        int granularity = input.Index(2);
        long absoluteTotal = input.Signed();
        var names = new string[input.Count()];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = input.Utf8();
        }

        var files = new string[names.Length];
        for (int i = 0; i < files.Length; i++)
        {
            files[i] = input.Utf8();
        }

        int count = input.Count();
        if (count < 1)
        {
            throw new DigestException("tree digest without a root");
        }

        var frames = new int[count];
        var parents = new int[count];
        var depths = new int[count];
        var selfs = new long[count];
        frames[0] = -1;
        parents[0] = -1;
        selfs[0] = input.Signed();
        // The path from the root to the previous node: a node at depth d is the child of the path's node at d - 1.
        var path = new int[Math.Min(count, 1 << 16)];
        int pathLength = 1;
        for (int node = 1; node < count; node++)
        {
            int depth = input.Index(pathLength + 1);
            if (depth < 1)
            {
                throw new DigestException($"tree digest node {node} at depth {depth} below a path of {pathLength}");
            }

            if (depth >= path.Length)
            {
                Array.Resize(ref path, Math.Min(count, path.Length * 2));
            }

            frames[node] = input.Index(names.Length);
            selfs[node] = input.Signed();
            depths[node] = depth;
            parents[node] = path[depth - 1];
            path[depth] = node;
            pathLength = depth + 1;
        }

        input.End("its nodes");
        (long[] totals, int[] ends) = FlameTree.Accumulate(parents, selfs);
        return new FlameTree(sampleType, (FrameGranularity)granularity, names, files, frames, parents, depths, ends, totals, selfs, absoluteTotal);
    }
}
