//! Ready toolkits for kern agents: shell, files, HTTP. (Being built: issue 4.)
