namespace Flamewright.Pprof.Analysis;

/// <summary>What one flame-graph frame stands for.</summary>
public enum FrameGranularity
{
    /// <summary>One frame per function, named as <c>go tool pprof</c> prints it (the default).</summary>
    Function = 0,

    /// <summary>
    /// One frame per source line, named as <c>go tool pprof -lines</c> names it: <c>main.work /src/app/main.go:42</c>
    /// (SkyWalking's <c>name:line</c>, with the file).
    /// </summary>
    Line = 1,
}
