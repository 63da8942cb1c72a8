// The project loader: project.conf and elements (see cairn/project/project.h).
