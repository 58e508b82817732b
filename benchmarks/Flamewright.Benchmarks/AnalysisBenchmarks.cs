using System.IO.Compression;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Flamewright.Pprof;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;

namespace Flamewright.Benchmarks;

/// <summary>
/// Decoding and analysis of the large generated profile, against the floor of merely gunzipping its bytes.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class AnalysisBenchmarks
{
    /// <summary>
    /// Few iterations (each one is seconds of work), and RetainVM so the GC keeps the memory it freed: on this
    /// machine first-touching a fresh page costs about 4.4 ms per MiB, which would otherwise swamp the work measured.
    /// Whole-process runs (ProcessComparison) show the cold cost.
    /// </summary>
    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(6).WithGcRetainVm(true));
    }

    private byte[] _gzip = [];
    private byte[] _inflated = [];

    [GlobalSetup]
    public void Setup()
    {
        _gzip = File.ReadAllBytes(BenchmarkFiles.LargeProfile);
        _inflated = Gunzip();
    }

    /// <summary>The floor: inflate the bytes into one buffer and do nothing else.</summary>
    [Benchmark(Baseline = true, Description = "gunzip only (floor)")]
    public byte[] Gunzip()
    {
        using var gzip = new GZipStream(new MemoryStream(_gzip, writable: false), CompressionMode.Decompress);
        using var output = new MemoryStream(_inflated.Length > 0 ? _inflated.Length + 1 : _gzip.Length * 8);
        gzip.CopyTo(output);
        return output.GetBuffer();
    }

    [Benchmark(Description = "decode (gunzip + parse + validate)")]
    public Profile Decode() => ProfileReader.Read(_gzip);

    [Benchmark(Description = "decode + flame tree")]
    public FlameTree DecodeAndTree() => FlameTreeBuilder.Build(ProfileReader.Read(_gzip));

    [Benchmark(Description = "decode + top table")]
    public TopTable DecodeAndTop() => TopTable.Build(ProfileReader.Read(_gzip));
}
