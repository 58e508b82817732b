namespace Flamewright.Pprof.Analysis;

/// <summary>What one flame-graph frame stands for.</summary>
public enum FrameGranularity
{
    /// <summary>One frame per function, named as <c>go tool pprof</c> prints it (the default).</summary>
    Function = 0,

    /// <summary>One frame per function and line, <c>name:line</c>, as SkyWalking names frames.</summary>
    Line = 1,
}
