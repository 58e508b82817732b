namespace Flamewright.Pprof.Primitives;

/// <summary>Protobuf wire types (https://protobuf.dev/programming-guides/encoding/).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    Len = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

// Field numbers of github.com/google/pprof proto/profile.proto. They are frozen by the format.
internal static class ProfileField
{
    public const int SampleType = 1;
    public const int Sample = 2;
    public const int Mapping = 3;
    public const int Location = 4;
    public const int Function = 5;
    public const int StringTable = 6;
    public const int DropFrames = 7;
    public const int KeepFrames = 8;
    public const int TimeNanos = 9;
    public const int DurationNanos = 10;
    public const int PeriodType = 11;
    public const int Period = 12;
    public const int Comment = 13;
    public const int DefaultSampleType = 14;
    public const int DocUrl = 15;
}

internal static class ValueTypeField
{
    public const int Type = 1;
    public const int Unit = 2;
}

internal static class SampleField
{
    public const int LocationId = 1;
    public const int Value = 2;
    public const int Label = 3;
}

internal static class LabelField
{
    public const int Key = 1;
    public const int Str = 2;
    public const int Num = 3;
    public const int NumUnit = 4;
}

internal static class MappingField
{
    public const int Id = 1;
    public const int MemoryStart = 2;
    public const int MemoryLimit = 3;
    public const int FileOffset = 4;
    public const int Filename = 5;
    public const int BuildId = 6;
    public const int HasFunctions = 7;
    public const int HasFilenames = 8;
    public const int HasLineNumbers = 9;
    public const int HasInlineFrames = 10;
}

internal static class LocationField
{
    public const int Id = 1;
    public const int MappingId = 2;
    public const int Address = 3;
    public const int Line = 4;
    public const int IsFolded = 5;
}

internal static class LineField
{
    public const int FunctionId = 1;
    public const int Line = 2;
    public const int Column = 3;
}

internal static class FunctionField
{
    public const int Id = 1;
    public const int Name = 2;
    public const int SystemName = 3;
    public const int Filename = 4;
    public const int StartLine = 5;
}
